import type { Job } from '../domain/job.js'
import type { JsonObject } from '../domain/json.js'
import type { ProtocolRun } from '../domain/protocol-run.js'
import type { StepRun } from '../domain/step-run.js'
import { nextProtocolStatus } from '../domain/transitions.js'
import type { ChangeOrigin } from './context.js'
import { enqueueStepJob, type JobPolicy } from './queue-runtime/enqueue.js'
import type { Repositories } from './ports.js'
import { acquireRunLease } from './runs/run-lease.js'
import { waitForWorktree } from './runs/worktree-wait.js'
import { changeRunStatus, changeStepStatus, type ChangeEvent } from './state-changes.js'

/**
 * Keeps the run going after a policy took over: `running` through the table (an event when that
 * changes anything). Already running, the status is still compare-and-set, so a pause or cancel
 * committed since the caller read the run fails this transaction instead of being overridden.
 */
export const keepRunGoing = async (
  tx: Pick<Repositories, 'runs' | 'events'>,
  run: ProtocolRun,
  message: string,
  ctx: ChangeOrigin,
): Promise<void> => {
  const to = nextProtocolStatus(run.status, 'run')
  if (run.status === to) {
    await tx.runs.compareAndSetStatus(run.id, [run.status], to)
    return
  }
  await changeRunStatus(tx, run, 'run', { event: { type: 'protocol_running', message }, origin: ctx })
}

/**
 * Sends a pending step to execution, as the API does for a user but on behalf of a policy: the
 * step → running by compare-and-set (so it never runs twice at once), its execute job written to
 * the outbox in the same transaction, and `runtime_state` merged with `runtime`. The step is
 * reserved for the new job, as a user start does, so a stale job of an earlier attempt finds it
 * taken. While another step holds the run's worktree the step stays pending and its job waits
 * (queued, not failed) until the worktree is free (`worktree-wait.ts`).
 */
export const dispatchStep = async (
  tx: Repositories,
  jobPolicy: JobPolicy,
  run: ProtocolRun,
  {
    step,
    event,
    runtime,
    origin: ctx,
  }: {
    readonly step: StepRun
    readonly event: ChangeEvent
    readonly runtime: JsonObject
    readonly origin: ChangeOrigin
  },
): Promise<Job> => {
  const job = await enqueueStepJob(tx.jobs, 'execute_step_job', step, {
    projectId: run.projectId,
    origin: ctx,
    policy: jobPolicy,
  })
  const want = { protocolRunId: run.id, stepRunId: step.id, jobId: job.id }
  const lease = await acquireRunLease(tx, want, ctx.jobId)
  if (!lease.acquired) {
    await waitForWorktree(tx, { run, step, job, refusal: lease, event, runtime }, ctx)
    return job
  }
  const metadata: JsonObject = { ...event.metadata, job_id: job.id }
  await changeStepStatus(tx, run, step, { action: 'run', event: { ...event, metadata }, origin: ctx })
  await tx.steps.mergeRuntimeState(step.id, { ...runtime, job_id: job.id })
  return job
}

/** Sends a step back to `pending` (the table's `reset`), unless it is pending already. */
export const resetStep = async (
  tx: Pick<Repositories, 'steps' | 'events'>,
  run: ProtocolRun,
  step: StepRun,
  event: ChangeEvent,
  ctx: ChangeOrigin,
): Promise<StepRun> =>
  step.status === 'pending'
    ? step
    : changeStepStatus(tx, run, step, {
        action: 'reset',
        event,
        origin: ctx,
        patch: { summary: event.message },
      })
