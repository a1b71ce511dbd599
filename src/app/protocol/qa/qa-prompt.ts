import { basename, join } from 'node:path'
import { isCodeMachineRun } from '../../../domain/codemachine/codemachine-run.js'
import { reviewStepBrief } from '../../../domain/review-feedback.js'
import { resolveSpecPath } from '../../../domain/spec-paths.js'
import type { ContainedFiles } from '../../contained-files.js'
import type { WorktreeInfo } from '../../git.port.js'
import { codeMachineStepPaths, findCodeMachineAgent } from '../codemachine/codemachine-paths.js'
import type { StepScope } from '../execution/step-context.js'
import { loadPrompt, promptSections } from '../prompt-templates.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { qaAnswerInstruction } from './inline-qa.js'

/** The QA prompt: the step's own QA prompt file or our template, then the material to judge. */
export const qaPrompt = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  worktree: WorktreeInfo,
  inline: boolean,
  signal: AbortSignal,
): Promise<string> => {
  const root = worktree.protocolRoot
  const read = (path: string, fallback: string): string => deps.files.readText(worktree.path, path, fallback)
  // A CodeMachine template names its QA prompt inside `.codemachine/` (the run's protocol root).
  const promptRoot = isCodeMachineRun(context.run) ? (context.run.protocolRoot ?? root) : root
  const roots = { protocolRoot: promptRoot, workspace: worktree.path }
  const custom = context.stepSpec.qa.prompt
    ? resolveSpecPath(context.stepSpec.qa.prompt, roots, deps.files)
    : undefined
  const head =
    custom && 'path' in custom
      ? read(custom.path, loadPrompt(deps.assets, 'qa').text)
      : loadPrompt(deps.assets, 'qa').text
  return promptSections(head, [
    ['Plan (plan.md)', read(join(root, 'plan.md'), '(none)')],
    ['Context (context.md)', read(join(root, 'context.md'), '(none)')],
    ['Log (log.md)', read(join(root, 'log.md'), '(none)')],
    ...stepSections(deps.files, context, worktree),
    ['git status --porcelain', (await deps.git.statusPorcelain(worktree.path, signal)) || '(clean)'],
    ['Last commit', (await deps.git.lastCommitSubject(worktree.path, signal)) ?? '(none)'],
    ['Answer', qaAnswerInstruction(inline)],
  ])
}

/**
 * What the step was asked (its step file) and, for a CodeMachine step, the agent's answer: its
 * prompt lives in `.codemachine/` and its work is the answer file, not a commit.
 */
const stepSections = (
  files: ContainedFiles,
  context: StepScope,
  worktree: WorktreeInfo,
): Array<[string, string]> => {
  const read = (path: string, fallback: string): string => files.readText(worktree.path, path, fallback)
  const title = `Step file (${context.step.stepName})`
  const agent = isCodeMachineRun(context.run) ? findCodeMachineAgent(context) : undefined
  if (agent) {
    const paths = codeMachineStepPaths(context, agent, worktree.path, files)
    if ('error' in paths) return [[title, '(missing)']]
    return [
      [title, read(paths.promptPath, '(missing)')],
      [`Agent answer (${basename(paths.outputs.protocol)})`, read(paths.outputs.protocol, '(none)')],
    ]
  }
  const roots = { protocolRoot: worktree.protocolRoot, workspace: worktree.path }
  const stepFile = resolveSpecPath(context.stepSpec.prompt_ref, roots, files)
  const missing = reviewStepBrief(context.step, { comments: true }) ?? '(missing)'
  return [[title, 'path' in stepFile ? read(stepFile.path, missing) : missing]]
}
