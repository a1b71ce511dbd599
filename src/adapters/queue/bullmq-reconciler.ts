import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobLedger, SuspectJob } from '../storage/job-ledger.js'

/** A relayed row younger than this may still be on its way into Redis. */
const RELAY_SETTLE_MS = 5_000
const BATCH = 500

/** Where a BullMQ job is, as far as the reconciler needs to know. */
type Presence = 'alive' | 'ended' | 'gone'

/**
 * Jobs the database expects in Redis but Redis no longer holds alive: queued rows relayed a while
 * ago whose BullMQ job is gone or already ended, and started rows whose lease ran out while BullMQ
 * has no active job for them (their worker died; BullMQ fails a stalled job at once). Ended
 * leftovers are removed so the id can be re-added.
 */
export const findLostJobs = async (
  ledger: JobLedger,
  queueFor: (name: string) => Queue,
  redis: Redis,
): Promise<SuspectJob[]> => {
  const relayedBefore = new Date(Date.now() - RELAY_SETTLE_MS).toISOString()
  const suspects = await ledger.listRelayedSuspects(relayedBefore, BATCH)
  const lost: SuspectJob[] = []
  for (const name of new Set(suspects.map((suspect) => suspect.job.queue))) {
    const queue = queueFor(name)
    const inQueue = suspects.filter((suspect) => suspect.job.queue === name)
    const presence = await presenceOf(
      redis,
      queue,
      inQueue.map((suspect) => suspect.job.id),
    )
    for (const [i, suspect] of inQueue.entries()) {
      if (presence[i] === 'alive') continue
      if (presence[i] === 'ended') await queue.remove(suspect.job.id).catch(() => 0)
      lost.push(suspect)
    }
  }
  return lost
}

/**
 * The presence of each job, read in one round trip (a pipeline of one `HMGET` per job) instead
 * of one `getJobState` script call each: under a backlog every queued row relayed more than 5 s
 * ago is a suspect, up to 500 per pass in every process, about one Redis round trip per job run.
 * A BullMQ job is a hash under its key from its creation (`timestamp`) until it is removed, and
 * `finishedOn` is set once it completed or failed for good; ours are removed as they end
 * (`removeOnComplete`, `removeOnFail`), so a hash without `finishedOn` is waiting, delayed or
 * active: alive.
 */
const presenceOf = async (redis: Redis, queue: Queue, ids: readonly string[]): Promise<Presence[]> => {
  const replies = await redis
    .pipeline(ids.map((id) => ['hmget', queue.toKey(id), 'timestamp', 'finishedOn']))
    .exec()
  return ids.map((_, i) => {
    const [error, fields] = replies?.[i] ?? [new Error('no reply')]
    if (error) throw error
    const [timestamp, finishedOn] = fields as Array<string | null>
    if (timestamp === null || timestamp === undefined) return 'gone'
    return finishedOn === null || finishedOn === undefined ? 'alive' : 'ended'
  })
}
