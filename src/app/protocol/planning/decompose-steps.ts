import { join } from 'node:path'
import { decomposeTargets, isSimpleStep, refinedStepText } from '../../../domain/decompose.js'
import type { JsonObject } from '../../../domain/json.js'
import { isPathOutsideWorkspace } from '../../contained-files.js'
import type { WorktreeInfo } from '../../git.port.js'
import { planLogPath, callEngine } from '../execution/engine-call.js'
import type { RunAndProject } from '../run-workspace.js'
import { loadPrompt, promptSections } from '../prompt-templates.js'
import type { Assets } from '../../assets.port.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/** What the decomposition pass did, for the `planned` event and the run's usage. */
export interface DecomposeOutcome {
  readonly tokens: number
  readonly costUsd: number
  readonly metadata: JsonObject
}

const NOTHING: DecomposeOutcome = { tokens: 0, costUsd: 0, metadata: {} }

/**
 * The optional decomposition pass (`TASKSGODZILLA_DECOMPOSE_STEPS`): each numbered step file after
 * step zero, in name order, is sent with the plan to the planning engine (decompose model) and
 * replaced by the refined Markdown. plan.md, context.md and log.md are never touched. A call that
 * fails, is refused by the budget or answers nothing leaves that step file as the planner wrote
 * it; the pass stops at the first budget refusal. Cancellation propagates.
 */
export const decomposeSteps = async (
  deps: ProtocolJobDeps,
  loaded: RunAndProject,
  worktree: WorktreeInfo,
  stepFileNames: readonly string[],
  signal: AbortSignal,
): Promise<DecomposeOutcome> => {
  if (!deps.config.models.decomposeSteps) return NOTHING
  const root = worktree.protocolRoot
  const plan = readOrRefusal(deps, worktree, join(root, 'plan.md'))
  if (typeof plan !== 'string') return { ...NOTHING, metadata: { decompose: { refused: plan.refused } } }
  const refined: string[] = []
  const kept: JsonObject[] = []
  let tokens = 0
  let costUsd = 0
  let estimate = 0
  let model: string | null = null
  for (const name of decomposeTargets(stepFileNames)) {
    const current = readOrRefusal(deps, worktree, join(root, name))
    if (typeof current !== 'string') {
      kept.push({ file: name, reason: current.refused })
      continue
    }
    if (deps.config.models.skipSimpleDecompose && isSimpleStep(current)) {
      kept.push({ file: name, reason: 'simple step' })
      continue
    }
    const call = await callEngine(deps, {
      ...loaded,
      run: { ...loaded.run, tokensUsed: loaded.run.tokensUsed + tokens },
      phase: 'plan',
      modelPhase: 'decompose',
      prompt: decomposePrompt(deps.assets, loaded, plan, name, current),
      workingDir: worktree.path,
      logPath: planLogPath(deps, loaded.run.id),
      signal,
      label: `decomposing ${name}`,
    })
    estimate += call.estimate
    model = call.model
    if (call.kind === 'budget') {
      kept.push({ file: name, reason: call.message })
      break
    }
    if (call.kind === 'failed') {
      kept.push({ file: name, reason: call.failure.message })
      continue
    }
    tokens += call.promptTokens + call.completionTokens
    costUsd += call.result.costUsd ?? 0
    const text = call.result.success ? refinedStepText(call.result.outputText) : undefined
    if (text === undefined) {
      const reason = call.result.success
        ? 'empty answer'
        : `engine exited with ${String(call.result.exitCode)}`
      kept.push({ file: name, reason })
      continue
    }
    deps.files.writeText(worktree.path, join(root, name), text)
    refined.push(name)
  }
  return {
    tokens,
    costUsd,
    metadata: { decompose: { model, estimated_tokens: estimate, refined, kept } },
  }
}

/** A file's text, or why the contained reader refused it (its content never leaves the worktree). */
const readOrRefusal = (
  deps: ProtocolJobDeps,
  worktree: WorktreeInfo,
  path: string,
): string | { refused: string } => {
  try {
    return deps.files.readText(worktree.path, path)
  } catch (error) {
    if (!isPathOutsideWorkspace(error)) throw error
    return { refused: `Refused: ${error.message}` }
  }
}

/** Our decompose template, then the protocol, its plan and the step file to refine. */
const decomposePrompt = (
  assets: Assets,
  { run }: RunAndProject,
  plan: string,
  name: string,
  current: string,
): string =>
  promptSections(loadPrompt(assets, 'decompose').text, [
    ['Protocol', `Name: ${run.protocolName}`],
    ['Plan (plan.md)', plan || '(no plan.md)'],
    ['Step', `Step file: ${name}\n\n${current}`],
  ])
