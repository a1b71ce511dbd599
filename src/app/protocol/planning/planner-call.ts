import type { WorktreeInfo } from '../../git.port.js'
import { parsePlanningOutput, SCHEMA_FILES, type PlanningOutput } from '../../spec-validation.js'
import { callEngine, chooseEngine, planLogPath, type EngineCallOutcome } from '../execution/engine-call.js'
import { usageLimitOf } from '../../runs/quota-parking.js'
import { plannerBreaker, plannerLimitOf, type PlannerLimit } from './planner-limit.js'
import type { RunAndProject } from '../run-workspace.js'
import { loadPrompt, promptSections } from '../prompt-templates.js'
import { protocolNumber } from '../commit-message.js'
import type { Assets } from '../../assets.port.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/** Attempts at a valid planning answer: the first, plus one fed with the validation errors. */
const PLANNING_TRIES = 2

export type PlannerOutcome =
  | {
      readonly kind: 'ok'
      readonly output: PlanningOutput
      readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
      readonly tokens: number
      readonly costUsd: number
    }
  | { readonly kind: 'invalid'; readonly errors: readonly string[]; readonly tokens: number }
  | { readonly kind: 'limited'; readonly limit: PlannerLimit }
  | Extract<EngineCallOutcome, { kind: 'budget' | 'failed' }>

/** The planning prompt: our template, then the task and where things are. */
export const planningPrompt = (
  assets: Assets,
  { run }: RunAndProject,
  worktree: WorktreeInfo,
  repoPath: string,
): string => {
  const [, ...rest] = run.protocolName.split('-')
  return promptSections(loadPrompt(assets, 'plan').text, [
    [
      'Protocol',
      [
        `Name: ${run.protocolName}`,
        `Number: ${protocolNumber(run.protocolName)}`,
        `Short name: ${rest.join('-') || run.protocolName}`,
        `Base branch: ${run.baseBranch}`,
        `Repository root: ${repoPath}`,
        `Worktree root: ${worktree.path}`,
      ].join('\n'),
    ],
    ['Task', run.description?.trim() || '(no description given: infer the task from the protocol name)'],
  ])
}

/**
 * Asks the planner for a planning answer; an invalid answer is retried once with the validation
 * errors appended to the prompt.
 */
export const askPlanner = async (
  deps: ProtocolJobDeps,
  loaded: RunAndProject,
  worktree: WorktreeInfo,
  basePrompt: string,
  signal: AbortSignal,
): Promise<PlannerOutcome> => {
  let prompt = basePrompt
  let tokens = 0
  let costUsd = 0
  let errors: readonly string[] = []
  for (let attempt = 1; attempt <= PLANNING_TRIES; attempt++) {
    const run = { ...loaded.run, tokensUsed: loaded.run.tokensUsed + tokens }
    const input = {
      ...loaded,
      run,
      phase: 'plan' as const,
      prompt,
      workingDir: worktree.path,
      logPath: planLogPath(deps, run.id),
      signal,
      outputSchemaPath: deps.assets.absolutePath(SCHEMA_FILES.protocolPlanning),
      label: `planning ${run.protocolName}`,
    }
    const breaker = await plannerBreaker(deps, chooseEngine(deps, input))
    if (breaker) return { kind: 'limited', limit: breaker }
    const call = await callEngine(deps, input)
    if (call.kind !== 'done') return call
    const limit = usageLimitOf(call.result, new Date())
    if (limit) return { kind: 'limited', limit: plannerLimitOf(call, limit) }
    tokens += call.promptTokens + call.completionTokens
    costUsd += call.result.costUsd ?? 0
    const parsed = parsePlanningOutput(deps.assets, answerText(call))
    if ('ok' in parsed) return { kind: 'ok', output: parsed.ok, call, tokens, costUsd }
    errors = parsed.errors
    prompt = retryPrompt(basePrompt, errors)
  }
  return { kind: 'invalid', errors, tokens }
}

const answerText = (call: Extract<EngineCallOutcome, { kind: 'done' }>): string =>
  call.result.structured !== null && typeof call.result.structured === 'object'
    ? JSON.stringify(call.result.structured)
    : call.result.outputText

const retryPrompt = (basePrompt: string, errors: readonly string[]): string =>
  promptSections(basePrompt, [
    [
      'Your previous answer was rejected',
      `Fix these problems and answer again with the JSON object only:\n${errors.map((e) => `- ${e}`).join('\n')}`,
    ],
  ])
