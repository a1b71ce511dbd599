import { DONE_STEP_STATUSES } from '../../domain/statuses.js'
import { canProtocol } from '../../domain/transitions.js'
import type { ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus } from '../state-changes.js'

/**
 * Closes the run when it has steps and every one is completed or cancelled, and the table lets
 * it complete from where it is (never from pending or paused).
 *
 * The run is locked before its steps are listed. Two transactions finishing a run's last two
 * steps at once would otherwise each list the other's step as still to do, and the run would
 * never close; with the lock the second lists after the first commits. A CI failure reopening a
 * completed step locks the run as well (applyCiNotice), so it is either seen here or finds the
 * run closed.
 */
export const maybeCompleteProtocol = async (
  tx: Pick<Repositories, 'runs' | 'steps' | 'events'>,
  runId: number,
  ctx: ChangeOrigin,
): Promise<void> => {
  const run = await tx.runs.lockById(runId)
  if (!run || !canProtocol(run.status, 'complete')) return
  const steps = await tx.steps.listByRun(runId)
  if (steps.length === 0 || !steps.every((step) => DONE_STEP_STATUSES.includes(step.status))) return
  const event = { type: 'protocol_completed', message: 'All steps completed; protocol closed.' }
  await changeRunStatus(tx, run, 'complete', { event, origin: ctx })
}
