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
  let current = run
  if (run.status !== 'running') {
    const event = { type: 'protocol_reopened', message: `The run was re-opened for ${reason}.` }
    current = await changeRunStatus(tx, run, 'reopen', { event, origin: ctx })
  }
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

/** The step that produced the branch's latest commit; without any, the last step of the run. */
export const lastExecutedStep = (steps: readonly StepRun[]): StepRun | undefined => {
  const live = steps.filter((s) => s.status !== 'cancelled')
  const executed = live.filter((s) => s.headSeq !== null)
  const pool = executed.length > 0 ? executed : live
  const key = (x: StepRun) => (executed.length > 0 ? x.headSeq! : x.stepIndex)
  return pool.reduce<StepRun | undefined>(
    (last, s) => (last === undefined || key(s) >= key(last) ? s : last),
    undefined,
  )
}
