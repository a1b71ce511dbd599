import type { JsonObject } from '../../../domain/json.js'
import type { ChangeOrigin } from '../../context.js'
import { JobDeferral } from '../../queue-runtime/job-deferral.js'
import { engineLimitedMetadata, type EngineChoice, type UsageLimit } from '../../runs/quota-parking.js'
import type { RunAndProject } from '../run-workspace.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/** What stopped the planner: its engine's usage limit (printed by the CLI, or its breaker). */
export interface PlannerLimit {
  readonly engine: EngineChoice
  readonly resumeAt: Date
  readonly metadata: JsonObject
}

/** The planner's limit as reported by the CLI it ran. */
export const plannerLimitOf = (engine: EngineChoice, limit: UsageLimit): PlannerLimit => ({
  engine,
  resumeAt: limit.resumeAt,
  metadata: { source: 'engine_output', quote: limit.quote, reset_printed: limit.printed },
})

/** The planner's engine has its breaker open (a limit any worker saw): no call until it closes. */
export const plannerBreaker = async (
  deps: Pick<ProtocolJobDeps, 'engineLimits'>,
  engine: EngineChoice,
): Promise<PlannerLimit | undefined> => {
  const until = await deps.engineLimits.limitedUntil(engine.engineId, new Date())
  return until === undefined
    ? undefined
    : { engine, resumeAt: new Date(until), metadata: { source: 'circuit_breaker' } }
}

/**
 * A limited planner does not block the run: it stays `planning`, the engine's breaker opens for
 * every worker, `engine_limited` (phase plan) is recorded, and the plan job is deferred to the
 * reset without spending an attempt.
 */
export const deferLimitedPlanning = async (
  deps: Pick<ProtocolJobDeps, 'uow'>,
  { run }: RunAndProject,
  limit: PlannerLimit,
  ctx: ChangeOrigin,
): Promise<never> => {
  const resumeAt = limit.resumeAt.toISOString()
  const quote = typeof limit.metadata.quote === 'string' ? ` (${limit.metadata.quote})` : ''
  const message = `Engine ${limit.engine.engineId} is limited${quote}; planning of ${run.protocolName} resumes at ${resumeAt}.`
  await deps.uow.run(async (tx) => {
    await tx.engineLimits.limit(limit.engine.engineId, limit.resumeAt, message)
    await tx.events.append({
      projectId: run.projectId,
      protocolRunId: run.id,
      eventType: 'engine_limited',
      message,
      metadata: {
        ...engineLimitedMetadata({ ...limit, phase: 'plan' }),
        ...(ctx.jobId ? { job_id: ctx.jobId } : {}),
      },
    })
  })
  throw new JobDeferral(limit.resumeAt, message)
}

/** The plan job is back from a limit it deferred on: `engine_resumed` (phase plan). */
export const recordPlanningResumed = async (
  deps: Pick<ProtocolJobDeps, 'uow'>,
  { run }: RunAndProject,
  ctx: ChangeOrigin,
): Promise<void> => {
  const jobId = ctx.jobId
  if (!jobId) return
  await deps.uow.run(async (tx) => {
    const [latest] = await tx.events.list({ protocolRunId: run.id, eventType: 'engine_limited', limit: 1 })
    const metadata = latest?.metadata
    if (metadata?.phase !== 'plan' || metadata.job_id !== jobId) return
    if (typeof metadata.resume_at !== 'string') return
    await tx.events.append({
      projectId: run.projectId,
      protocolRunId: run.id,
      eventType: 'engine_resumed',
      message: `Planning of ${run.protocolName} resumes after its engine's limit.`,
      metadata: {
        phase: 'plan',
        resume_at: metadata.resume_at,
        resumed_after_ms: Date.now() - Date.parse(metadata.resume_at),
        job_id: jobId,
      },
    })
  })
}
