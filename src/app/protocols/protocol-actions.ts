import { AppError } from '../../domain/app-error.js'
import { isCodeMachineRun } from '../../domain/codemachine/codemachine-run.js'
import type { Job } from '../../domain/job.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { canStep, nextProtocolStatus } from '../../domain/transitions.js'
import { appendRunEvent, runEventMetadata } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeRun } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus, changeStepStatus } from '../state-changes.js'
import { startStep } from './start-step.js'

export interface ActionResult {
  readonly message: string
  readonly job: Job | null
}

type Deps = Pick<AppDeps, 'uow' | 'jobPolicy' | 'abortRun'>

/**
 * Starts a pending, planned or blocked run: status → planning and a planning job, atomically.
 * A CodeMachine run already has its steps (one per imported agent), so it is not planned: its
 * first runnable step is enqueued exactly as `run_next_step` would, after the same `start` check.
 */
export const makeStartProtocol =
  (deps: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    deps.uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      if (isCodeMachineRun(run)) {
        // Called for its refusal only: a run that may not start throws the table's 409 here.
        nextProtocolStatus(run.status, 'start')
        return enqueueNextStep(tx, deps, run, ctx, 'CodeMachine run started at its first runnable step')
      }
      const scope = { projectId: run.projectId, protocolRunId: run.id }
      const job = await enqueueJob(
        tx.jobs,
        'plan_protocol_job',
        { protocol_run_id: run.id },
        { scope, origin: ctx, policy: deps.jobPolicy },
      )
      const metadata = { job_id: job.id, spec_hash: runEventMetadata(run).spec_hash ?? null }
      await changeRunStatus(tx, run, 'start', {
        event: { type: 'planning_enqueued', message: 'Planning job enqueued.', metadata },
        origin: ctx,
      })
      return { message: 'Protocol planning enqueued', job }
    })

/** Pauses an active run; pausing a paused run is a no-op without a second event. */
export const makePauseProtocol =
  ({ uow }: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ProtocolRun> =>
    uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      if (run.status === 'paused') return run
      const event = { type: 'paused', message: 'Protocol paused by user.', metadata: runEventMetadata(run) }
      return changeRunStatus(tx, run, 'pause', { event, origin: ctx })
    })

export const makeResumeProtocol =
  ({ uow }: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ProtocolRun> =>
    uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      const event = { type: 'resumed', message: 'Protocol resumed by user.', metadata: runEventMetadata(run) }
      const resumed = await changeRunStatus(tx, run, 'resume', { event, origin: ctx })
      // What pause held back runs again, committed with the resume itself.
      await tx.jobs.releaseHeld(runId)
      return resumed
    })

/**
 * Cancels a run and every unfinished step (failed and blocked ones too), then signals running
 * handlers. Cancelling a cancelled run returns it unchanged.
 */
export const makeCancelProtocol =
  ({ uow, abortRun }: Deps) =>
  async (runId: number, ctx: ChangeOrigin): Promise<ProtocolRun> => {
    const { run, changed } = await uow.run(async (tx) => {
      const { run: current } = await authorizeRun(tx, runId, ctx)
      if (current.status === 'cancelled') return { run: current, changed: false }
      const event = {
        type: 'cancelled',
        message: 'Protocol cancelled by user.',
        metadata: runEventMetadata(current),
      }
      const cancelled = await changeRunStatus(tx, current, 'cancel', { event, origin: ctx })
      for (const step of await tx.steps.listByRun(runId)) {
        if (!canStep(step.status, 'cancel')) continue
        const stepEvent = {
          type: 'step_cancelled',
          message: `Step ${step.stepName} cancelled with protocol.`,
        }
        await changeStepStatus(tx, current, step, {
          action: 'cancel',
          event: stepEvent,
          origin: ctx,
          patch: {
            summary: 'Cancelled with protocol',
          },
        })
      }
      await tx.jobs.cancelForRun(runId)
      return { run: cancelled, changed: true }
    })
    if (changed) await abortRun(runId)
    return run
  }

/** Claims the first pending, blocked or failed step of the run and enqueues its execution. */
const enqueueNextStep = async (
  tx: Repositories,
  deps: Deps,
  run: ProtocolRun,
  ctx: ChangeOrigin,
  why?: string,
): Promise<ActionResult> => {
  const steps = await tx.steps.listByRun(run.id)
  const step = steps.find((s) => canStep(s.status, 'run'))
  if (!step) throw new AppError('ORC_NOTHING_TO_RUN', 'No pending or failed steps to run')
  const message = `Step ${step.stepName} enqueued for execution${why ? ` (${why})` : ''}.`
  const job = await startStep(tx, deps, run, {
    step,
    start: { action: 'run', event: { type: 'step_enqueued', message } },
    origin: ctx,
  })
  return { message: `Step ${step.stepName} enqueued`, job }
}

export const makeRunNextStep =
  (deps: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    deps.uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      return enqueueNextStep(tx, deps, run, ctx)
    })

export const makeRetryLatest =
  (deps: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    deps.uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      const steps = await tx.steps.listByRun(runId)
      const step = [...steps].reverse().find((s) => canStep(s.status, 'retry'))
      if (!step) throw new AppError('ORC_NOTHING_TO_RUN', 'No failed or blocked steps to retry')
      const event = { type: 'step_retry_enqueued', message: `Retrying ${step.stepName}.` }
      const job = await startStep(tx, deps, run, { step, start: { action: 'retry', event }, origin: ctx })
      return { message: `Retrying ${step.stepName}`, job }
    })

/** Enqueues opening the PR/MR; refused only for cancelled runs, whose work was abandoned. */
export const makeOpenPr =
  ({ uow, jobPolicy }: Deps) =>
  (runId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    uow.run(async (tx) => {
      const { run } = await authorizeRun(tx, runId, ctx)
      if (run.status === 'cancelled') throw new AppError('ORC_INVALID_TRANSITION', 'Protocol is cancelled')
      const scope = { projectId: run.projectId, protocolRunId: run.id }
      const job = await enqueueJob(
        tx.jobs,
        'open_pr_job',
        { protocol_run_id: run.id },
        { scope, origin: ctx, policy: jobPolicy },
      )
      await appendRunEvent(
        tx,
        run,
        { type: 'open_pr_enqueued', message: 'Open PR/MR job enqueued.', metadata: { job_id: job.id } },
        ctx,
      )
      return { message: 'Open PR/MR enqueued', job }
    })
