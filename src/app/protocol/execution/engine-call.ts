import { join } from 'node:path'
import { selectEngineAndModel } from '../../../domain/engine-selection.js'
import type { ModelPhase, Project } from '../../../domain/project.js'
import type { ProtocolRun } from '../../../domain/protocol-run.js'
import type { ProtocolSpec, StepSpec } from '../../../domain/spec.js'
import type { StepRun } from '../../../domain/step-run.js'
import { decideBudget, estimateTokens } from '../../../domain/tokens.js'
import {
  defaultSandbox,
  type AgentSessionRequest,
  type EnginePhase,
  type EngineResult,
} from '../../engine.port.js'
import { isStall, recordStall } from './engine-stall.js'
import { engineFailure, type EngineFailure } from './engine-failure.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

export interface EngineCallInput {
  readonly phase: EnginePhase
  readonly run: ProtocolRun
  readonly project: Project
  readonly stepRun?: StepRun
  readonly stepSpec?: StepSpec
  readonly spec?: ProtocolSpec
  readonly prompt: string
  readonly workingDir: string
  /** Per-step (or per-run planning) log file the agent's lines are appended to. */
  readonly logPath: string
  readonly signal: AbortSignal
  readonly outputSchemaPath?: string
  /** Names the call in budget messages (`step 01-x.md`). */
  readonly label: string
  /** Model phase when it is not the engine phase's own (decomposition runs as `plan`). */
  readonly modelPhase?: ModelPhase
  /**
   * The execute job whose agent conversation is kept and resumed across its attempts
   * (agent-session-call.ts); planning and QA keep none.
   */
  readonly sessionJobId?: string
  /** Set by agent-session-call.ts for the engine request. */
  readonly session?: AgentSessionRequest
  readonly onSessionId?: (id: string) => Promise<void> | void
  /** Set by the fallback chain (engine-chain-call.ts): this entry's engine and model, and the time left. */
  readonly chainEntry?: {
    readonly engineId: string
    readonly model: string | null
    readonly timeoutMs: number
  }
}

export interface EngineUse {
  readonly engineId: string
  readonly model: string | null
  readonly estimate: number
}

export type EngineCallOutcome =
  | (EngineUse & {
      readonly kind: 'done'
      readonly result: EngineResult
      readonly promptTokens: number
      readonly completionTokens: number
      /** Set when a `warn` budget was exceeded. */
      readonly budgetWarning?: string
    })
  | (EngineUse & { readonly kind: 'budget'; readonly message: string })
  | (EngineUse & { readonly kind: 'failed'; readonly failure: EngineFailure })

const MODEL_PHASE: Record<EnginePhase, ModelPhase> = { plan: 'planning', execute: 'exec', qa: 'qa' }

/** Where a call's log goes: one file per step, one per run for planning. */
export const stepLogPath = (deps: ProtocolJobDeps, stepRunId: number): string =>
  join(deps.paths.logsDir, 'steps', `${stepRunId}.log`)

export const planLogPath = (deps: ProtocolJobDeps, runId: number): string =>
  join(deps.paths.logsDir, 'runs', `${runId}-plan.log`)

/**
 * Chooses engine and model (one precedence chain), enforces the token budget (per call and
 * cumulative per run), runs the engine and counts tokens. Never inside a transaction.
 */
export const callEngine = async (
  deps: ProtocolJobDeps,
  input: EngineCallInput,
): Promise<EngineCallOutcome> => {
  const use = chooseEngine(deps, input)
  const budget = decideBudget(use.estimate, input.run.tokensUsed, deps.config.budgets, input.label)
  deps.counters.estimatedTokens(input.phase, use.model ?? 'default', use.estimate)
  if (budget.outcome === 'refuse') return { ...use, kind: 'budget', message: budget.message }
  let result: EngineResult
  try {
    result = await deps.engines.get(use.engineId).run({
      phase: input.phase,
      workingDir: input.workingDir,
      prompt: input.prompt,
      model: use.model,
      sandbox: defaultSandbox(input.phase),
      timeoutMs: input.chainEntry?.timeoutMs ?? deps.engineTimeoutMs,
      ...(deps.engineStallMs !== undefined ? { stallMs: deps.engineStallMs } : {}),
      signal: input.signal,
      logPath: input.logPath,
      scratchDir: join(deps.paths.logsDir, 'scratch', `${input.run.id}`, scratchName(input)),
      ...(input.outputSchemaPath ? { outputSchemaPath: input.outputSchemaPath } : {}),
      ...(input.session ? { session: input.session } : {}),
      ...(input.onSessionId ? { onSessionId: input.onSessionId } : {}),
    })
  } catch (error) {
    if (isStall(error)) await recordStall(deps, { input, use, error })
    return { ...use, kind: 'failed', failure: engineFailure(error) }
  }
  const promptTokens = result.usage?.prompt ?? use.estimate
  const completionTokens = result.usage?.completion ?? estimateTokens(result.outputText)
  const labels = { engine: use.engineId, model: use.model ?? 'default', phase: input.phase }
  deps.counters.agentTokens({ ...labels, kind: 'prompt' }, promptTokens)
  deps.counters.agentTokens({ ...labels, kind: 'completion' }, completionTokens)
  return {
    ...use,
    kind: 'done',
    result,
    promptTokens,
    completionTokens,
    ...(budget.outcome === 'warn' ? { budgetWarning: budget.message } : {}),
  }
}

/** The engine and model a call would use (one precedence chain), and its token estimate. */
export const chooseEngine = (deps: ProtocolJobDeps, input: EngineCallInput): EngineUse => {
  const entry = input.chainEntry
  if (entry) return { engineId: entry.engineId, model: entry.model, estimate: estimateTokens(input.prompt) }
  const phase = input.modelPhase ?? MODEL_PHASE[input.phase]
  const selection = selectEngineAndModel({
    phase,
    ...(input.stepSpec ? { step: input.stepSpec } : {}),
    ...(input.stepRun ? { stepRun: input.stepRun } : {}),
    ...(input.spec ? { protocol: input.spec } : {}),
    projectDefaults: input.project.defaultModels,
    ...configModel(deps, phase),
    registryDefaultEngineId: deps.engines.defaultId,
    engineDefaultModel: (id) => (deps.engines.has(id) ? deps.engines.get(id).defaultModel : null),
  })
  return { ...selection, estimate: estimateTokens(input.prompt) }
}

const configModel = (deps: ProtocolJobDeps, phase: ModelPhase): { configModel?: string } => {
  const model = deps.config.models[phase]
  return model ? { configModel: model } : {}
}

const scratchName = (input: EngineCallInput): string =>
  input.stepRun ? `${input.phase}-${input.stepRun.id}` : `${input.phase}-run`
