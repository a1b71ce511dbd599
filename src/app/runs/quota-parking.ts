import { classifyEngineExit } from '../../domain/engine-failure.js'
import type { JsonObject } from '../../domain/json.js'
import type { StepRun } from '../../domain/step-run.js'
import type { ChangeOrigin } from '../context.js'
import type { EngineResult } from '../engine.port.js'
import { JobDeferral } from '../queue-runtime/job-deferral.js'
import type { StepScope } from '../protocol/execution/step-context.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import { changeStepStatus } from '../state-changes.js'

/** How long a step waits when its engine reports a limit without saying when it resets. */
export const UNKNOWN_RESET_WAIT_MS = 15 * 60_000

export interface EngineChoice {
  readonly engineId: string
  readonly model: string | null
}

interface Parking {
  readonly engine: EngineChoice
  readonly resumeAt: Date
  readonly message: string
  readonly metadata: JsonObject
}

type Deps = { readonly uow: UnitOfWork }

/**
 * Before an engine call: while the engine's global circuit breaker is open (a limit reported by
 * any worker), the step is parked until it closes instead of spending a call and an attempt.
 */
export const parkIfEngineLimited = async (
  deps: Deps,
  context: StepScope,
  engine: EngineChoice,
  ctx: ChangeOrigin,
): Promise<void> => {
  const until = await deps.uow.run((tx) => tx.engineLimits.limitedUntil(engine.engineId, new Date()))
  if (until === undefined) return
  const message = `Engine ${engine.engineId} is limited until ${until} (circuit breaker); step ${context.step.stepName} waits.`
  await park(
    deps,
    context,
    { engine, resumeAt: new Date(until), message, metadata: { source: 'circuit_breaker' } },
    ctx,
  )
}

/**
 * After a failed engine call: a usage or rate limit (read from the CLI's own words) parks the
 * step in `waiting_quota` until the printed reset time (15 min when none is printed), opens the
 * engine's breaker for every worker, and defers the job to that time without spending an attempt.
 * Any other failure returns, for the caller's usual handling.
 */
export const parkIfUsageLimited = async (
  deps: Deps,
  context: StepScope,
  call: { readonly engine: EngineChoice; readonly result: EngineResult },
  ctx: ChangeOrigin,
): Promise<void> => {
  if (call.result.success) return
  const now = new Date()
  const verdict = classifyEngineExit(`${call.result.stderrTail}\n${call.result.outputText}`, now)
  if (verdict.kind !== 'usage_limit') return
  const printed = verdict.resetAt !== null && verdict.resetAt > now
  const resumeAt = printed ? verdict.resetAt! : new Date(now.getTime() + UNKNOWN_RESET_WAIT_MS)
  const message = `Engine ${call.engine.engineId} reported a usage limit (${verdict.quote}); step ${context.step.stepName} resumes at ${resumeAt.toISOString()}.`
  const metadata = {
    source: 'engine_output',
    quote: verdict.quote,
    reset_printed: printed,
    exit_code: call.result.exitCode,
  }
  await park(deps, context, { engine: call.engine, resumeAt, message, metadata }, ctx)
}

const park = async (deps: Deps, context: StepScope, parking: Parking, ctx: ChangeOrigin): Promise<never> => {
  const { engine, resumeAt, message } = parking
  await deps.uow.run(async (tx) => {
    await tx.engineLimits.limit(engine.engineId, resumeAt, message)
    const step = await tx.steps.findById(context.step.id)
    if (!step || step.status !== 'running') return
    const metadata = {
      ...parking.metadata,
      engine_id: engine.engineId,
      model: engine.model,
      resume_at: resumeAt.toISOString(),
    }
    await changeStepStatus(tx, context.run, step, {
      action: 'park_quota',
      event: { type: 'engine_limited', message, metadata },
      origin: ctx,
    })
    await tx.steps.mergeRuntimeState(step.id, {
      resume_at: resumeAt.toISOString(),
      limited_engine: engine.engineId,
    })
  })
  throw new JobDeferral(resumeAt, message)
}

/** Whether `jobId` is the (deferred) job of a step parked on its engine's quota. */
export const isParkedFor = (step: StepRun, jobId: string): boolean =>
  step.status === 'waiting_quota' && step.runtimeState?.job_id === jobId

/** The parked step's job came back at `resume_at`: the step runs again, with `engine_resumed`. */
export const resumeParkedStep = async (
  tx: Repositories,
  context: Pick<StepScope, 'run' | 'step'>,
  ctx: ChangeOrigin,
): Promise<StepRun> => {
  const resumeAt = context.step.runtimeState?.resume_at
  const lateMs = typeof resumeAt === 'string' ? Date.now() - Date.parse(resumeAt) : null
  const event = {
    type: 'engine_resumed',
    message: `Step ${context.step.stepName} resumes after its engine's limit.`,
    metadata: { resume_at: typeof resumeAt === 'string' ? resumeAt : null, resumed_after_ms: lateMs },
  }
  const moved = await changeStepStatus(tx, context.run, context.step, {
    action: 'resume_quota',
    event,
    origin: ctx,
  })
  return (await tx.steps.mergeRuntimeState(moved.id, { resume_at: null })) ?? moved
}
