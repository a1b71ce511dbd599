import type { JsonObject } from '../../../domain/json.js'
import { bindCiFailureToHead } from '../../../domain/retry-feedback.js'
import { canProtocol } from '../../../domain/transitions.js'
import type { ChangeOrigin } from '../../context.js'
import type { Repositories } from '../../ports.js'
import { resumeWaitingStep } from '../../runs/step-resume.js'
import type { LeaseRefusal } from '../../runs/run-lease.js'
import { changeRunStatus } from '../../state-changes.js'
import { readStepContext, type StepScope } from './step-context.js'

export type ClaimOutcome =
  | { readonly claimed: StepScope }
  | { readonly skipped: string }
  /** The step waits for the run's worktree, which another holds. */
  | { readonly waiting: LeaseRefusal }

/**
 * Claims a `running` step for this job: the job id is recorded in `runtime_state.job_id`, so a
 * duplicate delivery (another job id) is a no-op, while a retry of the same job goes on. The run
 * is moved to `running` when it is not yet; paused and terminal runs refuse the work. A step this
 * job left waiting (for the worktree, or parked on its engine's quota) is started here again.
 */
export const claimStep = async (
  tx: Repositories,
  stepId: number,
  jobId: string,
  logPath: string,
  ctx: ChangeOrigin,
): Promise<ClaimOutcome> => {
  const read = await readStepContext(tx, stepId)
  if (!read) return { skipped: 'step or run not found' }
  const resumed = await resumeWaitingStep(tx, read, jobId, ctx)
  if ('waiting' in resumed) return resumed
  const { context } = resumed
  const { step, run } = context
  if (step.status !== 'running') return { skipped: `step is ${step.status}` }
  const claimedBy = step.runtimeState?.job_id
  if (typeof claimedBy === 'string' && claimedBy !== jobId) return { skipped: `claimed by job ${claimedBy}` }
  if (run.status !== 'running') {
    if (!canProtocol(run.status, 'run')) return { skipped: `run is ${run.status}` }
    const event = { type: 'protocol_running', message: 'Step execution started the run.' }
    await changeRunStatus(tx, run, 'run', { event, origin: ctx })
  }
  const patch: JsonObject = { job_id: jobId, log_path: logPath }
  const ciFailure = bindCiFailureToHead(step)?.ci_failure
  if (ciFailure !== undefined && ciFailure !== step.runtimeState?.ci_failure) patch.ci_failure = ciFailure
  const updated = await tx.steps.mergeRuntimeState(step.id, patch)
  return { claimed: { ...context, step: updated ?? step } }
}
