import type { Job } from '../../domain/job.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { StepRun } from '../../domain/step-run.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { changeStepStatus, type ChangeEvent } from '../state-changes.js'
import { JobDeferral } from '../queue-runtime/job-deferral.js'
import { acquireRunLease, type LeaseRefusal } from './run-lease.js'

/**
 * `runtime_state` key of a pending step that a policy or CI dispatched while another step held the
 * run's worktree: the id of that step. The step's execute job is queued anyway and starts the step
 * once the worktree is free (see startWaitingStep); it is not failed meanwhile.
 */
export const AWAITING_WORKTREE = 'awaiting_worktree_of'

/** How long a job of a waiting step stays queued before it looks at the worktree again. */
export const WORKTREE_WAIT_POLL_MS = 2_000

export interface WorktreeWait {
  readonly run: Pick<ProtocolRun, 'id' | 'projectId'>
  readonly step: StepRun
  readonly job: Job
  /** The take that was refused: who holds the worktree. */
  readonly refusal: LeaseRefusal
  /** The dispatch's own event (`step_enqueued`, `trigger_enqueued`…), recorded as it would be. */
  readonly event: ChangeEvent
  readonly runtime: JsonObject
}

/** Leaves a dispatched step pending, marked as waiting for `holder`, with both events recorded. */
export const waitForWorktree = async (
  tx: Pick<Repositories, 'steps' | 'events'>,
  wait: WorktreeWait,
  ctx: ChangeOrigin,
): Promise<void> => {
  const { run, step, job } = wait
  const { holder, activity } = wait.refusal
  await tx.steps.mergeRuntimeState(step.id, {
    ...wait.runtime,
    job_id: job.id,
    [AWAITING_WORKTREE]: holder.id,
  })
  const scope = { projectId: run.projectId, protocolRunId: run.id, stepRunId: step.id }
  const metadata = { ...wait.event.metadata, job_id: job.id, waiting_for_step_id: holder.id }
  await tx.events.append({
    ...scope,
    eventType: wait.event.type,
    message: wait.event.message,
    metadata: withTrace(metadata, ctx),
  })
  await tx.events.append({
    ...scope,
    eventType: 'step_waiting_for_worktree',
    message: `Step ${step.stepName} waits for step ${holder.stepName}, which is ${activity} in the run's worktree.`,
    metadata: withTrace({ job_id: job.id, running_step_id: holder.id }, ctx),
  })
}

/** Whether `jobId` is the job of a step left waiting for the worktree. */
export const awaitsWorktree = (step: StepRun, jobId: string): boolean =>
  step.status === 'pending' &&
  step.runtimeState?.job_id === jobId &&
  typeof step.runtimeState?.[AWAITING_WORKTREE] === 'number'

/**
 * The waiting step's job came round: if the worktree is free it takes the lease and moves the
 * step to `running` (returned); otherwise it answers the step still holding the worktree.
 */
export const startWaitingStep = async (
  tx: Repositories,
  target: {
    readonly run: Pick<ProtocolRun, 'id' | 'projectId'>
    readonly step: StepRun
    readonly jobId: string
  },
  ctx: ChangeOrigin,
): Promise<{ readonly started: StepRun } | { readonly waiting: LeaseRefusal }> => {
  const { run, step, jobId } = target
  // The run before the lease, as a user's start takes them: the claim may move the run next.
  await tx.runs.lockById(run.id)
  const lease = await acquireRunLease(tx, { protocolRunId: run.id, stepRunId: step.id, jobId }, jobId)
  if (!lease.acquired) return { waiting: lease }
  const event = {
    type: 'step_worktree_acquired',
    message: `The worktree is free: step ${step.stepName} starts.`,
    metadata: { job_id: jobId },
  }
  const moved = await changeStepStatus(tx, run, step, { action: 'run', event, origin: ctx })
  const updated = await tx.steps.mergeRuntimeState(moved.id, { [AWAITING_WORKTREE]: null })
  return { started: updated ?? moved }
}

/** The deferral of a waiting step's job: it looks at the worktree again after a short wait. */
export const worktreeBusy = ({ holder, activity }: LeaseRefusal): JobDeferral =>
  new JobDeferral(
    new Date(Date.now() + WORKTREE_WAIT_POLL_MS),
    `step ${holder.id} (${holder.stepName}) is ${activity} in the run's worktree`,
  )
