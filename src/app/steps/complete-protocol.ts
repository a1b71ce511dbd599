import { DONE_STEP_STATUSES } from '../../domain/statuses.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { canProtocol } from '../../domain/transitions.js'
import type { ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus } from '../state-changes.js'

/**
 * Closes the run when it has steps and every one is completed or cancelled, and the table lets
 * it complete from where it is (never from pending or paused). Returns the run as it now is.
 */
export const maybeCompleteProtocol = async (
  tx: Pick<Repositories, 'runs' | 'steps' | 'events'>,
  runId: number,
  ctx: ChangeOrigin,
): Promise<ProtocolRun | undefined> => {
  const run = await tx.runs.findById(runId)
  if (!run || !canProtocol(run.status, 'complete')) return run
  const steps = await tx.steps.listByRun(runId)
  if (steps.length === 0 || !steps.every((step) => DONE_STEP_STATUSES.includes(step.status))) return run
  const event = { type: 'protocol_completed', message: 'All steps completed; protocol closed.' }
  return changeRunStatus(tx, run, 'complete', { event, origin: ctx })
}
