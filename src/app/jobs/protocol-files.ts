import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { writeContainedText } from '../contained-files.js'
import { join } from 'node:path'
import type { PathProbe } from '../../domain/spec-paths.js'
import type { PlanningOutput } from '../spec-validation.js'

/** node:fs-backed path probe for spec path resolution. */
export const FS_PROBE: PathProbe = { exists: (path) => existsSync(path) }

/**
 * Writes plan.md, context.md, log.md and the step files into the protocol root, refusing any path
 * a symlink of the repository (say a committed `.protocols -> ~`) would lead out of `worktree`.
 */
export const writePlanningFiles = (
  worktree: string,
  protocolRoot: string,
  output: PlanningOutput,
): string[] => {
  writeContainedText(worktree, join(protocolRoot, 'plan.md'), output.plan_md)
  writeContainedText(worktree, join(protocolRoot, 'context.md'), output.context_md)
  writeContainedText(worktree, join(protocolRoot, 'log.md'), output.log_md)
  for (const { filename, content } of output.step_files)
    writeContainedText(worktree, join(protocolRoot, filename), content)
  return output.step_files.map(({ filename }) => filename)
}

/** True for an existing folder (following symlinks); false for anything else or nothing. */
export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Names of the files directly in the protocol root (none when it does not exist). */
export const listProtocolFiles = (protocolRoot: string): string[] =>
  existsSync(protocolRoot) ? readdirSync(protocolRoot) : []

/** A file's text, or `fallback` when it cannot be read. */
export const readText = (path: string, fallback = ''): string => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

/** Appends one dated line to the protocol's `log.md`, inside `worktree` (symlinks refused). */
export const appendProtocolLog = (worktree: string, protocolRoot: string, line: string): void =>
  writeContainedText(
    worktree,
    join(protocolRoot, 'log.md'),
    `\n- ${new Date().toISOString()} ${line}\n`,
    true,
  )
