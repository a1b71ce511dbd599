import { join } from 'node:path'
import type { ContainedFiles } from '../contained-files.js'
import type { PlanningOutput } from '../spec-validation.js'

/**
 * Writes plan.md, context.md, log.md and the step files into the protocol root, refusing any path
 * a symlink of the repository (say a committed `.protocols -> ~`) would lead out of `worktree`.
 */
export const writePlanningFiles = (
  files: ContainedFiles,
  worktree: string,
  protocolRoot: string,
  output: PlanningOutput,
): string[] => {
  files.writeText(worktree, join(protocolRoot, 'plan.md'), output.plan_md)
  files.writeText(worktree, join(protocolRoot, 'context.md'), output.context_md)
  files.writeText(worktree, join(protocolRoot, 'log.md'), output.log_md)
  for (const { filename, content } of output.step_files)
    files.writeText(worktree, join(protocolRoot, filename), content)
  return output.step_files.map(({ filename }) => filename)
}

/** Appends one dated line to the protocol's `log.md`, inside `worktree` (symlinks refused). */
export const appendProtocolLog = (
  files: ContainedFiles,
  worktree: string,
  protocolRoot: string,
  line: string,
): void =>
  files.writeText(worktree, join(protocolRoot, 'log.md'), `\n- ${new Date().toISOString()} ${line}\n`, true)
