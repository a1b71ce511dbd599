import type { Job } from '../../domain/job.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { StepRun } from '../../domain/step-run.js'
import { nextProtocolStatus, type StepAction } from '../../domain/transitions.js'
import { runEventMetadata } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import type { ChangeOrigin } from '../context.js'
import { enqueueStepJob } from '../queue-runtime/enqueue.js'
import type { Repositories } from '../ports.js'
import { holdRunLeaseOrRefuse } from '../runs/run-lease.js'
import { changeRunStatus, changeStepStatus } from '../state-changes.js'

export interface StepStart {
  readonly action: Extract<StepAction, 'run' | 'retry'>
  readonly event: { readonly type: string; readonly message: string }
}

/**
 * Claims a step for execution on behalf of a user: the run must accept new work (paused and
 * terminal runs refuse), its worktree must be free (a run executing another step refuses with
 * ORC_RUN_BUSY naming it), the step moves by compare-and-set and is reserved for the new job
 * (`runtime_state.job_id`), the run becomes running, and the execution job is written to the
 * outbox — all in the caller's transaction.
 */
export const startStep = async (
  tx: Repositories,
  deps: Pick<AppDeps, 'jobPolicy'>,
  caller: ProtocolRun,
  {
    step,
    start,
    origin: ctx,
  }: { readonly step: StepRun; readonly start: StepStart; readonly origin: ChangeOrigin },
): Promise<Job> => {
  // The run before the lease, as every step move and dispatch takes them: taking the lease first
  // could deadlock with a job that moved a step of this run and then dispatches the next one. The
  // locked row decides: a pause committed since the caller's read refuses the start.
  const run = (await tx.runs.lockById(caller.id)) ?? caller
  nextProtocolStatus(run.status, 'run')
  const retries = start.action === 'retry' ? step.retries + 1 : step.retries
  const job = await enqueueStepJob(tx.jobs, 'execute_step_job', step, {
    projectId: run.projectId,
    origin: ctx,
    policy: deps.jobPolicy,
  })
  await holdRunLeaseOrRefuse(tx, { protocolRunId: run.id, stepRunId: step.id, jobId: job.id }, ctx.jobId)
  const metadata = runEventMetadata(
    run,
    start.action === 'retry' ? { job_id: job.id, retries } : { job_id: job.id },
  )
  await changeStepStatus(tx, run, step, {
    action: start.action,
    event: { ...start.event, metadata },
    origin: ctx,
    patch: { retries },
    // A start by a user begins a fresh chain: the trigger depth restarts (the original never reset
    // it, so later executions of a step were depth-capped at once), and the step is reserved for
    // this job, so a stale job of an earlier attempt (another id) finds it taken. Merged by the
    // status write itself: one statement fewer per start.
    runtimeMerge: { inline_trigger_depth: null, job_id: job.id },
  })
  if (run.status !== 'running') {
    const event = { type: 'protocol_running', message: 'Protocol running.', metadata: runEventMetadata(run) }
    await changeRunStatus(tx, run, 'run', { event, origin: ctx })
  }
  return job
}
