import { classifyEngineExit } from '../../domain/engine-failure.js'
import type { JsonObject } from '../../domain/json.js'
import type { StepRun } from '../../domain/step-run.js'
import type { ChangeOrigin } from '../context.js'
import type { EngineResult } from '../engine.port.js'
import { JobDeferral } from '../queue-runtime/job-deferral.js'
import type { StepScope } from '../protocol/execution/step-context.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import { changeStepStatus } from '../state-changes.js'
import type { EngineLimitReads } from './engine-limit.port.js'

/** How long a step waits when its engine reports a limit without saying when it resets. */
export const UNKNOWN_RESET_WAIT_MS = 15 * 60_000

export interface EngineChoice {
  readonly engineId: string
  readonly model: string | null
}

/** What the parked call was doing: executing the step (from `running`) or judging it (from `needs_qa`). */
export type ParkedPhase = 'execute' | 'qa'

export interface Parking {
  readonly phase?: ParkedPhase
  readonly engine: EngineChoice
  readonly resumeAt: Date
  readonly message: string
  readonly metadata: JsonObject
}

type Deps = { readonly uow: UnitOfWork }

type PrecheckDeps = Deps & { readonly engineLimits: EngineLimitReads }

/**
 * Before an engine chain runs: while every engine of the chain has its global circuit breaker open
 * (a limit reported by any worker), the step is parked until the first one closes instead of
 * spending a call and an attempt. A chain of one is the single engine the step would use.
 * Otherwise returns the open breakers it read (engine id → until), for the chain's first entries.
 */
export const parkIfChainLimited = async (
  deps: PrecheckDeps,
  context: StepScope,
  chain: readonly EngineChoice[],
  ctx: ChangeOrigin,
  phase: ParkedPhase = 'execute',
): Promise<ReadonlyMap<string, string>> => {
  const now = new Date()
  const limited = await deps.engineLimits.limitedAmong(
    chain.map((engine) => engine.engineId),
    now,
  )
  const limits = chain.map((engine) => ({ engine, until: limited.get(engine.engineId) }))
  if (limits.length === 0 || !limits.every(isLimited)) return limited
  const earliest = limits.reduce((a, b) => (Date.parse(b.until) < Date.parse(a.until) ? b : a))
  const names = [...new Set(limits.map((l) => l.engine.engineId))].join(', ')
  const message = `Engine ${names} is limited until ${earliest.until} (circuit breaker); step ${context.step.stepName} waits.`
  return parkStep(
    deps,
    context,
    {
      phase,
      engine: earliest.engine,
      resumeAt: new Date(earliest.until),
      message,
      metadata: { source: 'circuit_breaker', ...chainMetadata(limits) },
    },
    ctx,
  )
}

const isLimited = (entry: {
  engine: EngineChoice
  until: string | undefined
}): entry is { engine: EngineChoice; until: string } => entry.until !== undefined

/** A usage or rate limit read from a failed call's output, with the instant it lifts. */
export interface UsageLimit {
  readonly resumeAt: Date
  readonly printed: boolean
  readonly quote: string
}

/**
 * The usage or rate limit a failed call reported (the CLI's own words), with its printed reset
 * time (15 min from now when none is printed); undefined for any other outcome.
 */
export const usageLimitOf = (result: EngineResult, now: Date): UsageLimit | undefined => {
  if (result.success) return undefined
  const verdict = classifyEngineExit(`${result.stderrTail}\n${result.outputText}`, now)
  if (verdict.kind !== 'usage_limit') return undefined
  const printed = verdict.resetAt !== null && verdict.resetAt > now
  const resumeAt = printed ? verdict.resetAt! : new Date(now.getTime() + UNKNOWN_RESET_WAIT_MS)
  return { resumeAt, printed, quote: verdict.quote }
}

/** `chain` for an event's metadata when more than one engine was in play. */
const chainMetadata = (limits: readonly { engine: EngineChoice; until: string }[]): JsonObject =>
  limits.length < 2
    ? {}
    : {
        chain: limits.map((l) => ({
          engine_id: l.engine.engineId,
          model: l.engine.model,
          limited_until: l.until,
        })),
      }

/** The metadata of an `engine_limited` event, for a step's phase or for planning. */
export const engineLimitedMetadata = (limit: {
  readonly phase: ParkedPhase | 'plan'
  readonly engine: EngineChoice
  readonly resumeAt: Date
  readonly metadata: JsonObject
}): JsonObject => ({
  ...limit.metadata,
  phase: limit.phase,
  engine_id: limit.engine.engineId,
  model: limit.engine.model,
  resume_at: limit.resumeAt.toISOString(),
})

/**
 * Parks the step in `waiting_quota` until `resumeAt` (`engine_limited`), opens the engine's breaker
 * for every worker, and defers the job to that time without spending an attempt. An execution
 * parks from `running`, a QA from `needs_qa` (the job that parked it is kept, to resume it).
 */
export const parkStep = async (
  deps: Deps,
  context: StepScope,
  parking: Parking,
  ctx: ChangeOrigin,
): Promise<never> => {
  const { engine, resumeAt, message } = parking
  const phase = parking.phase ?? 'execute'
  await deps.uow.run(async (tx) => {
    await tx.engineLimits.limit(engine.engineId, resumeAt, message)
    const step = await tx.steps.findById(context.step.id)
    if (!step || step.status !== PARKS_FROM[phase]) return
    const metadata = engineLimitedMetadata({ ...parking, phase })
    await changeStepStatus(tx, context.run, step, {
      action: phase === 'qa' ? 'park_qa_quota' : 'park_quota',
      event: { type: 'engine_limited', message, metadata },
      origin: ctx,
    })
    await tx.steps.mergeRuntimeState(step.id, {
      resume_at: resumeAt.toISOString(),
      limited_engine: engine.engineId,
      parked_phase: phase,
      ...(phase === 'qa' ? { qa_job_id: ctx.jobId ?? null } : {}),
    })
  })
  throw new JobDeferral(resumeAt, message)
}

const PARKS_FROM = { execute: 'running', qa: 'needs_qa' } as const

/** Whether `jobId` is the (deferred) job of a step parked on its engine's quota while executing. */
export const isParkedFor = (step: StepRun, jobId: string): boolean =>
  step.status === 'waiting_quota' &&
  step.runtimeState?.parked_phase !== 'qa' &&
  step.runtimeState?.job_id === jobId

/** Whether `jobId` is the (deferred) QA job of a step parked on its QA engine's quota. */
export const isQaParkedFor = (step: StepRun, jobId: string): boolean =>
  step.status === 'waiting_quota' &&
  step.runtimeState?.parked_phase === 'qa' &&
  step.runtimeState.qa_job_id === jobId

/**
 * The parked step's job came back at `resume_at`, with `engine_resumed`: an execution runs again
 * (`running`), a QA judges again (`needs_qa`).
 */
export const resumeParkedStep = async (
  tx: Repositories,
  context: Pick<StepScope, 'run' | 'step'>,
  ctx: ChangeOrigin,
): Promise<StepRun> => {
  const resumeAt = context.step.runtimeState?.resume_at
  const qa = context.step.runtimeState?.parked_phase === 'qa'
  const lateMs = typeof resumeAt === 'string' ? Date.now() - Date.parse(resumeAt) : null
  const event = {
    type: 'engine_resumed',
    message: `Step ${context.step.stepName}${qa ? "'s QA" : ''} resumes after its engine's limit.`,
    metadata: {
      phase: qa ? 'qa' : 'execute',
      resume_at: typeof resumeAt === 'string' ? resumeAt : null,
      resumed_after_ms: lateMs,
    },
  }
  const moved = await changeStepStatus(tx, context.run, context.step, {
    action: qa ? 'resume_qa' : 'resume_quota',
    event,
    origin: ctx,
  })
  return (await tx.steps.mergeRuntimeState(moved.id, { resume_at: null, parked_phase: null })) ?? moved
}
