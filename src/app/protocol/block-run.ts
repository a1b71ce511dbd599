import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { canProtocol } from '../../domain/transitions.js'
import { appendRunEvent } from '../api-events.js'
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

/** Why a loop stopped: the event that says so, with the counters that reached the cap. */
export interface LoopLimit {
  /** `review_loop_limit_reached`, `merge_conflict_limit_reached`. */
  readonly type: string
  readonly message: string
  readonly metadata: JsonObject
}

/**
 * A loop (review follow-ups, merge-conflict rounds) reached its cap: records why, then blocks the
 * run with reason `needs_human`. A completed or planned run is re-opened first (its PR is still
 * open, so the block is what tells a human to look); a blocked run stays as it is. The caller
 * leaves paused runs alone: the table lets nothing but resume, fail or cancel leave `paused`.
 */
export const blockRunForHuman = async (
  tx: Pick<Repositories, 'runs' | 'events'>,
  run: ProtocolRun,
  limit: LoopLimit,
  ctx: ChangeOrigin,
): Promise<ProtocolRun> => {
  const metadata: JsonObject = { ...limit.metadata, reason: 'needs_human' }
  await appendRunEvent(tx, run, { type: limit.type, message: limit.message, metadata }, ctx)
  let current = run
  if (run.status === 'completed' || run.status === 'planned') {
    const event = { type: 'protocol_reopened', message: 'The run was re-opened for a human.' }
    current = await changeRunStatus(tx, run, 'reopen', { event, origin: ctx })
  }
  if (current.status === 'blocked') return current
  const event = { type: 'protocol_blocked', message: 'Protocol blocked: needs a human.', metadata }
  return changeRunStatus(tx, current, 'block', { event, origin: ctx })
}
