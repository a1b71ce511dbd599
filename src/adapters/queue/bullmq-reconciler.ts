import type { Queue } from 'bullmq'
import type { JobLedger, SuspectJob } from '../storage/job-ledger.js'

/** A relayed row younger than this may still be on its way into Redis. */
const RELAY_SETTLE_MS = 5_000
const BATCH = 500
/** BullMQ states in which a job will still run (or is running) without our help. */
const ALIVE = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'])

/**
 * Jobs the database expects in Redis but Redis no longer holds alive: queued rows relayed a while
 * ago whose BullMQ job is gone or already ended, and started rows whose lease ran out while BullMQ
 * has no active job for them (their worker died; BullMQ fails a stalled job at once). Ended
 * leftovers are removed so the id can be re-added.
 */
export const findLostJobs = async (
  ledger: JobLedger,
  queueFor: (name: string) => Queue,
): Promise<SuspectJob[]> => {
  const relayedBefore = new Date(Date.now() - RELAY_SETTLE_MS).toISOString()
  const suspects = await ledger.listRelayedSuspects(relayedBefore, BATCH)
  const lost: SuspectJob[] = []
  for (const suspect of suspects) {
    const queue = queueFor(suspect.job.queue)
    const state = await queue.getJobState(suspect.job.id)
    if (ALIVE.has(state)) continue
    if (state !== 'unknown') await queue.remove(suspect.job.id).catch(() => 0)
    lost.push(suspect)
  }
  return lost
}
