import type { Job } from '../../domain/job.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { StepRun } from '../../domain/step-run.js'
import { canStep } from '../../domain/transitions.js'
import type { ChangeOrigin } from '../context.js'
import type { JobPolicy } from '../queue-runtime/enqueue.js'
import type { Repositories } from '../ports.js'
import { startStep } from '../protocols/start-step.js'
import { changeRunStatus, changeStepStatus } from '../state-changes.js'

/** What a follow-up re-opens a step for: the runtime state its prompt reads, and why (for events). */
export interface Followup {
  readonly run: ProtocolRun
  readonly step: StepRun
  /** Written into the step's `runtime_state` (e.g. `review_feedback`, `merge_conflict`). */
  readonly state: JsonObject
  /** Said in the events: `review comments`, `a merge conflict with main`. */
  readonly reason: string
}

/**
 * Sends the run back to work on one of its steps (inside the caller's transaction): the run is
 * re-opened (also from `completed`, its PR being still open), the step reset to pending and
 * started again like a user's `run`, with `state` in its runtime state for its prompt.
 */
export const reopenForFollowup = async (
  tx: Repositories,
  { run, step, state, reason }: Followup,
  jobPolicy: JobPolicy,
  ctx: ChangeOrigin,
): Promise<{ run: ProtocolRun; job: Job }> => {
  const current = await reopenRun(tx, await lockedRun(tx, run), reason, ctx)
  let target = step
  if (step.status !== 'pending' && canStep(step.status, 'reset')) {
    const event = { type: 'step_reset', message: `Step ${step.stepName} re-opened for ${reason}.` }
    target = await changeStepStatus(tx, current, step, { action: 'reset', event, origin: ctx })
  }
  const start = {
    action: 'run' as const,
    event: { type: 'step_enqueued', message: 'Step execution enqueued.' },
  }
  const job = await startStep(tx, { jobPolicy }, current, { step: target, start, origin: ctx })
  await tx.steps.mergeRuntimeState(step.id, state)
  return { run: (await tx.runs.findById(run.id)) ?? current, job }
}

/**
 * The run as it is now, locked (maybeCompleteProtocol): a transaction closing it over its steps
 * either commits first, and the re-open sees it closed, or lists the step this one re-opens.
 */
const lockedRun = async (tx: Repositories, run: ProtocolRun): Promise<ProtocolRun> =>
  (await tx.runs.lockById(run.id)) ?? run

/** A run not running goes back to `running` (`reopen`), e.g. from `completed` while its PR is open. */
const reopenRun = async (
  tx: Repositories,
  run: ProtocolRun,
  reason: string,
  ctx: ChangeOrigin,
): Promise<ProtocolRun> => {
  if (run.status === 'running') return run
  const event = { type: 'protocol_reopened', message: `The run was re-opened for ${reason}.` }
  return changeRunStatus(tx, run, 'reopen', { event, origin: ctx })
}

/** What a follow-up step is appended for: after which step, under what name, with what state. */
export interface FollowupStep {
  readonly run: ProtocolRun
  /** The step executed last: the new one takes its engine and model. */
  readonly after: StepRun
  /** Without the index prefix, e.g. `review-round-2.md`. */
  readonly name: string
  readonly stepType: string
  readonly state: JsonObject
  readonly reason: string
}

/**
 * Appends a step after the run's last one (index and `NN-` prefix one past the highest) and
 * starts it like a user's `run`: it goes through execute, QA and CI as any step, with `state` in
 * its runtime state for its prompt. The run is re-opened first when it is not running.
 */
export const appendFollowupStep = async (
  tx: Repositories,
  { run, after, name, stepType, state, reason }: FollowupStep,
  jobPolicy: JobPolicy,
  ctx: ChangeOrigin,
): Promise<{ run: ProtocolRun; step: StepRun; job: Job }> => {
  const current = await reopenRun(tx, await lockedRun(tx, run), reason, ctx)
  const steps = await tx.steps.listByRun(run.id)
  const index = Math.max(-1, ...steps.map((s) => s.stepIndex)) + 1
  const step = await tx.steps.create({
    protocolRunId: run.id,
    stepIndex: index,
    stepName: `${String(index).padStart(2, '0')}-${name}`,
    stepType,
    status: 'pending',
    engineId: after.engineId,
    model: after.model,
  })
  const start = {
    action: 'run' as const,
    event: { type: 'step_enqueued', message: 'Step execution enqueued.' },
  }
  const job = await startStep(tx, { jobPolicy }, current, { step, start, origin: ctx })
  await tx.steps.mergeRuntimeState(step.id, state)
  return { run: (await tx.runs.findById(run.id)) ?? current, step, job }
}
