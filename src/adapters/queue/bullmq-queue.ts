import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { ExpireLease } from '../../app/queue-runtime/job-lease-expiry.js'
import type { JobQueue } from '../../app/queue.js'
import type { Job } from '../../domain/job.js'
import type { Logger } from '../../logging.js'
import type { JobLedger, SuspectJob } from '../storage/job-ledger.js'
import { abortChannel, type BullmqNames } from './bullmq-options.js'
import { createMaintenance } from './maintenance.js'
import { createOutboxRelay } from './outbox-relay.js'
import { findLostJobs } from './bullmq-reconciler.js'
import { assertRedisReachable, openFailFastRedis, openRedis } from './redis-connection.js'

export interface BullmqQueueOptions {
  readonly url: string
  readonly names: BullmqNames
  readonly ledger: JobLedger
  /** Settles an attempt whose lease ran out (a counted, failed attempt). */
  readonly expireLease: ExpireLease
  readonly retentionHours: number
  readonly reconcileMs?: number
  readonly relayPollMs?: number
  readonly logger?: Logger
}

/**
 * Hands lost jobs to the relay again. A started one lost its worker: that attempt is settled first
 * (counted; queued again with backoff, or failed for good once attempts are used up).
 */
const requeueLost = async (options: BullmqQueueOptions, lost: readonly SuspectJob[]): Promise<number> => {
  const requeue: string[] = []
  for (const { job, token } of lost) {
    if (job.status !== 'started') requeue.push(job.id)
    else if (token !== null && (await options.expireLease({ job, token })) === 'retry') requeue.push(job.id)
  }
  if (requeue.length > 0) {
    options.logger?.warn({ jobs: requeue.length }, 'jobs missing from Redis handed to the relay again')
    await options.ledger.requeueForRelay(requeue)
  }
  return requeue.length
}

/**
 * The API side of the Redis backend: relays committed job rows to BullMQ, reconciles rows whose
 * BullMQ job vanished (Redis flushed, process killed before relaying, worker died), and
 * broadcasts run aborts to the worker processes, which do the actual work.
 */
export const createBullmqQueue = (
  options: BullmqQueueOptions,
): JobQueue & { readonly queueFor: (name: string) => Queue } => {
  const log = (error: Error): void => options.logger?.warn({ err: error }, 'redis connection error')
  let connection: Redis | undefined
  const redis = (): Redis => (connection ??= openRedis(options.url, log))
  // Opened at the first abort (a worker process's relay never aborts); an open that failed is
  // tried again at the next.
  let publisher: Promise<Redis> | undefined
  let stopped = false
  const openPublisher = (): Promise<Redis> => {
    if (stopped) return Promise.reject(new Error('the queue is stopped'))
    if (publisher) return publisher
    const opening = openFailFastRedis(options.url, log).catch((error: unknown) => {
      if (publisher === opening) publisher = undefined
      throw error
    })
    publisher = opening
    return opening
  }
  const queues = new Map<string, Queue>()
  const queueFor = (name: string): Queue => {
    const existing = queues.get(name)
    if (existing) return existing
    const queue = new Queue(name, { connection: redis(), prefix: options.names.prefix })
    queue.on('error', log)
    queues.set(name, queue)
    return queue
  }
  const relay = createOutboxRelay({
    ledger: options.ledger,
    queueFor,
    pollMs: options.relayPollMs,
    logger: options.logger,
  })
  const maintenance = createMaintenance(options, async () => {
    const requeued = await requeueLost(options, await findLostJobs(options.ledger, queueFor, redis()))
    if (requeued + (await options.ledger.releaseOrphanHeld()) > 0) relay.wake()
  })
  return {
    backend: 'redis-bullmq',
    queueFor,
    async start() {
      await assertRedisReachable(options.url)
      relay.start()
      maintenance.start()
    },
    async stop() {
      stopped = true
      await maintenance.stop()
      await relay.stop()
      await Promise.all([...queues.values()].map((queue) => queue.close()))
      connection?.disconnect()
      const opened = await publisher?.catch(() => undefined)
      publisher = undefined
      opened?.disconnect()
    },
    async abortRun(protocolRunId) {
      // The cancel that called this has committed and waits for it: while Redis is down this fails
      // at once rather than holding the request until Redis returns. Workers still see the run
      // cancelled at their next lease renewal, and begin() drops its cancelled jobs.
      await (await openPublisher()).publish(abortChannel(options.names), String(protocolRunId))
      const cancelled = await options.ledger.listIdsForRun(protocolRunId, ['cancelled'])
      // Active jobs are locked and refuse removal; their workers drop them on abort.
      await Promise.all(
        cancelled.map((id) =>
          queueFor('default')
            .remove(id)
            .catch(() => 0),
        ),
      )
    },
    wake(jobs: readonly Job[]) {
      if (jobs.some((job) => job.status === 'queued')) relay.wake()
    },
  }
}
