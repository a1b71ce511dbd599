import type { JsonObject } from '../../../domain/json.js'
import type { ProtocolRun } from '../../../domain/protocol-run.js'
import type { StepRun, StepRunPatch } from '../../../domain/step-run.js'
import { STEP_TRANSITIONS, type StepAction } from '../../../domain/transitions.js'
import { withTrace, type ChangeOrigin } from '../../context.js'
import type { LeftOutFile } from '../../git.port.js'
import type { Repositories, StepMove } from '../../ports.js'
import type { ChangeEvent } from '../../state-changes.js'
import type { FailureReason } from '../../../domain/policies.js'
import { applyFailurePolicies, type PolicyDeps } from '../../policies.js'
import { blockRun } from '../block-run.js'

/**
 * Moves a step by `action` when the table allows it from its stored status, else records the
 * event alone. Returns the step as it now is, or undefined when it is gone.
 */
export const moveStep = async (
  tx: Repositories,
  stepId: number,
  action: StepAction,
  change: StepChange,
): Promise<StepRun | undefined> => (await moveStepWithRun(tx, stepId, action, change))?.step

/**
 * As moveStep, also adding `runUsage` to the run (whether or not the step moves) and returning
 * the run as the same write left it, for the success policies that follow (no second read).
 */
export const moveStepWithRun = async (
  tx: Repositories,
  stepId: number,
  action: StepAction,
  { event, origin: ctx, patch, runUsage, endsWorkInWorktree }: StepChange,
): Promise<{ step: StepRun; run: ProtocolRun } | undefined> => {
  // The table's rule rides on the compare-and-set: no read of the step first.
  const rule = STEP_TRANSITIONS[action]
  const result = await tx.steps.moveIfAllowed(stepId, {
    from: rule.from,
    to: rule.to,
    patch,
    runUsage,
    // The job whose work in the worktree this move ends hands it on now, not when its attempt is
    // settled. Anyone else's move (CI, a user) leaves an agent's take alone.
    ...((endsWorkInWorktree ?? action === 'complete') && ctx.jobId !== undefined
      ? { releaseLeaseOf: ctx.jobId }
      : {}),
    event: {
      type: event.type,
      message: event.message,
      movedMetadata: withTrace(event.metadata, ctx),
      unmovedMetadata: { ...event.metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
    },
  })
  return result && { step: result.step, run: result.run }
}

interface StepChange {
  readonly event: ChangeEvent
  readonly origin: ChangeOrigin
  readonly patch?: StepRunPatch
  readonly runUsage?: StepMove['runUsage']
  /**
   * Whether the move ends the work of the origin's job in the run's worktree, so that its lease is
   * released with it; by default, when the job completes the step.
   */
  readonly endsWorkInWorktree?: boolean
}

/** The step fails with `event` and its run is blocked (`run_blocked` names the cause). */
export const failStepAndBlockRun = (
  tx: Repositories,
  stepId: number,
  event: ChangeEvent,
  ctx: ChangeOrigin,
): Promise<void> => failStep(tx, stepId, event, ctx)

/**
 * The step fails with `event`; its loop policies (then failure triggers) get a say, and only when
 * none applies is the run blocked, as without a policy.
 */
export const failStepLoopOrBlock = (
  tx: Repositories,
  policyDeps: PolicyDeps,
  stepId: number,
  {
    event,
    reason,
    origin: ctx,
  }: { readonly event: ChangeEvent; readonly reason: FailureReason; readonly origin: ChangeOrigin },
): Promise<void> => failStep(tx, stepId, event, ctx, { policyDeps, reason })

const failStep = async (
  tx: Repositories,
  stepId: number,
  event: ChangeEvent,
  ctx: ChangeOrigin,
  policies?: { readonly policyDeps: PolicyDeps; readonly reason: FailureReason },
): Promise<void> => {
  const step = await moveStep(tx, stepId, 'fail', { event, origin: ctx, patch: { summary: event.message } })
  if (!step) return
  if (
    policies &&
    step.status === 'failed' &&
    (await applyFailurePolicies(tx, policies.policyDeps, stepId, policies.reason, ctx))
  )
    return
  const metadata: JsonObject = { step_run_id: step.id, cause: event.type }
  await blockRun(
    tx,
    step.protocolRunId,
    { type: 'run_blocked', message: `Blocked: ${event.message}`, metadata },
    ctx,
  )
}

/**
 * `left_out_of_commit` for an event's metadata: the files a commit refused to stage (deny-listed
 * names, over the size cap), by path and reason only; nothing when none was.
 */
export const leftOutMetadata = (leftOut: readonly LeftOutFile[]): JsonObject =>
  leftOut.length === 0 ? {} : { left_out_of_commit: leftOut.map(({ path, reason }) => ({ path, reason })) }
