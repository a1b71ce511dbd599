import { DONE_STEP_STATUSES } from '../../domain/statuses.js'
import { canProtocol } from '../../domain/transitions.js'
import type { ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus } from '../state-changes.js'

/**
 * Closes the run when it has steps and every one is completed or cancelled, and the table lets
 * it complete from where it is (never from pending or paused). The steps are listed first: while
 * one is still to do, which is after every step but a run's last, the run is not read at all.
 */
export const maybeCompleteProtocol = async (
  tx: Pick<Repositories, 'runs' | 'steps' | 'events'>,
  runId: number,
  ctx: ChangeOrigin,
): Promise<void> => {
  const steps = await tx.steps.listByRun(runId)
  if (steps.length === 0 || !steps.every((step) => DONE_STEP_STATUSES.includes(step.status))) return
  const run = await tx.runs.findById(runId)
  if (!run || !canProtocol(run.status, 'complete')) return
  const event = { type: 'protocol_completed', message: 'All steps completed; protocol closed.' }
  await changeRunStatus(tx, run, 'complete', { event, origin: ctx })
}
