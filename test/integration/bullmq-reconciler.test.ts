import { Queue, QueueEvents, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { findLostJobs } from '../../src/adapters/queue/bullmq-reconciler.js'
import type { JobLedger, SuspectJob } from '../../src/adapters/storage/job-ledger.js'
import type { Job } from '../../src/domain/job.js'
import { REDIS_URL, deletePrefix } from '../support/queue-harness.js'

// The reconciler reads every suspect's presence in one pipeline: a waiting job is alive, a kept
// finished one is an ended leftover (removed, so its id can be added again), a missing one is gone.
describe.skipIf(!REDIS_URL)('BullMQ reconciler', () => {
  const prefix = `tgztest-reconciler-${Date.now()}`
  const connections: Redis[] = []
  const closing: Array<{ close(): Promise<void> }> = []
  const connect = (): Redis => {
    const redis = new Redis(REDIS_URL ?? '', { maxRetriesPerRequest: null })
    connections.push(redis)
    return redis
  }
  afterEach(async () => {
    for (const closable of closing.splice(0)) await closable.close()
    for (const redis of connections.splice(0)) redis.disconnect()
    await deletePrefix(prefix)
  })

  // Only the fields the reconciler reads.
  const suspect = (id: string, queue: string): SuspectJob => ({
    job: { id, queue, status: 'queued' } as Job,
    token: null,
  })

  it('finds the suspects whose BullMQ job ended or is gone, and removes the ended ones', async () => {
    const redis = connect()
    const queues = new Map<string, Queue>()
    const queueFor = (name: string): Queue => {
      const queue = queues.get(name) ?? new Queue(name, { connection: redis, prefix })
      if (!queues.has(name)) closing.push(queue)
      queues.set(name, queue)
      return queue
    }
    await queueFor('idle').add('noop', {}, { jobId: 'j-waiting' })
    await queueFor('idle').add('noop', {}, { jobId: 'j-delayed', delay: 60_000 })
    const events = new QueueEvents('default', { connection: connect(), prefix })
    closing.push(events)
    await events.waitUntilReady()
    const worker = new Worker('default', async () => 'done', { connection: connect(), prefix })
    closing.push(worker)
    const ended = await queueFor('default').add('noop', {}, { jobId: 'j-ended', removeOnComplete: false })
    await ended.waitUntilFinished(events)
    await worker.close()

    const ledger = {
      listRelayedSuspects: async () => [
        suspect('j-waiting', 'idle'),
        suspect('j-ended', 'default'),
        suspect('j-gone', 'default'),
        suspect('j-delayed', 'idle'),
      ],
    } as unknown as JobLedger
    const lost = await findLostJobs(ledger, queueFor, redis)

    expect(lost.map((job) => job.job.id)).toEqual(['j-ended', 'j-gone'])
    expect(await queueFor('default').getJobState('j-ended')).toBe('unknown')
    expect(await queueFor('idle').getJobState('j-waiting')).toBe('waiting')
  })
})
