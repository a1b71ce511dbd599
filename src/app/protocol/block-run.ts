import { canProtocol } from '../../domain/transitions.js'
import type { ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus, type ChangeEvent } from '../state-changes.js'

/** Blocks the run (re-read in this transaction) when the table allows it; records the event either way. */
export const blockRun = async (
  tx: Pick<Repositories, 'runs' | 'events'>,
  runId: number,
  event: ChangeEvent,
  ctx: ChangeOrigin,
): Promise<void> => {
  const run = await tx.runs.findById(runId)
  if (!run) return
  if (canProtocol(run.status, 'block')) {
    await changeRunStatus(tx, run, 'block', { event, origin: ctx })
    return
  }
  await tx.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    eventType: event.type,
    message: event.message,
    metadata: { ...event.metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
}
