import { randomUUID } from 'node:crypto'
import { DelayedError, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobRunner, RunOutcome } from '../../app/queue-runtime/job-runner.js'
import type { RunningJobs } from '../../app/queue-runtime/run-aborts.js'
import type { JobRepository } from '../../app/ports.js'
import type { BackoffPolicy } from '../../domain/job-policy.js'
import { DEFAULT_QUEUE } from '../../domain/job.js'
import type { Logger } from '../../logging.js'
import {
  abortChannel,
  backoffStrategy,
  rowAttempt,
  type BullJobData,
  type BullmqNames,
} from './bullmq-options.js'
import { drainWithin } from './drain.js'
import { assertRedisReachable, openRedis } from './redis-connection.js'

export interface BullmqWorkerOptions {
  readonly url: string
  readonly names: BullmqNames
  /** Outside any transaction: `begin` is one statement; `findById` reads a deferred job's due time. */
  readonly jobs: Pick<JobRepository, 'begin' | 'findById'>
  readonly runner: JobRunner
  readonly running: RunningJobs
  readonly policy: BackoffPolicy & { readonly leaseMs: number }
  readonly concurrency: number
  readonly queues?: readonly string[]
  /** BullMQ's lock on an active job; a worker that stops renewing it for this long is presumed dead. */
  readonly lockDurationMs?: number
  /** How often workers look for jobs whose lock expired (stalled-job recovery). */
  readonly stalledIntervalMs?: number
  readonly logger?: Logger
}

export interface BullmqWorkers {
  start(): Promise<void>
  /** Stops fetching, waits up to `graceMs` for running jobs, then gives them back to the queue. */
  stop(graceMs: number): Promise<void>
}

/**
 * A worker process's BullMQ consumers. BullMQ owns delivery, locks, stalled-job recovery,
 * attempts and backoff; each delivery begins the attempt in the job row (which drops deliveries
 * of jobs that are no longer runnable), runs it through the shared runner, and maps its outcome
 * back to BullMQ: throw to retry, UnrecoverableError to stop, DelayedError to hand it back (now on
 * shutdown, at its due time when the handler deferred it).
 */
export const createBullmqWorkers = (options: BullmqWorkerOptions): BullmqWorkers => {
  const log = (error: Error): void => options.logger?.warn({ err: error }, 'redis connection error')
  const workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`
  let connection: Redis | undefined
  let subscriber: Redis | undefined
  const workers: Worker[] = []
  const processor = (bullJob: BullJob<BullJobData>, token?: string) =>
    deliver(options, workerId, bullJob, token)
  return {
    async start() {
      await assertRedisReachable(options.url)
      connection = openRedis(options.url, log)
      subscriber = openRedis(options.url, log)
      await subscriber.subscribe(abortChannel(options.names))
      subscriber.on('message', (_channel: string, runId: string) => options.running.abortRun(Number(runId)))
      for (const name of options.queues ?? [DEFAULT_QUEUE]) {
        const worker = new Worker<BullJobData>(name, processor, {
          connection,
          prefix: options.names.prefix,
          concurrency: options.concurrency,
          lockDuration: options.lockDurationMs ?? 30_000,
          stalledInterval: options.stalledIntervalMs ?? 15_000,
          // A stalled job fails in BullMQ at once; the reconciler then settles its row's dead lease as
          // a counted attempt (retry or final failure), the same rule as the embedded queue.
          maxStalledCount: 0,
          settings: { backoffStrategy: backoffStrategy(options.policy) },
        })
        worker.on('error', log)
        workers.push(worker)
      }
    },
    async stop(graceMs) {
      const closing = Promise.all(workers.map((worker) => worker.close()))
      await drainWithin(
        () => options.running.size,
        graceMs,
        () => options.running.abortAll('shutdown'),
      )
      await closing
      subscriber?.disconnect()
      connection?.disconnect()
    },
  }
}

const deliver = async (
  options: BullmqWorkerOptions,
  workerId: string,
  bullJob: BullJob<BullJobData>,
  token: string | undefined,
): Promise<RunOutcome> => {
  const claim = {
    jobId: String(bullJob.id),
    token: `${workerId}:${randomUUID()}`,
    attempt: rowAttempt(bullJob.attemptsMade, bullJob.data),
    maxAttempts: bullJob.data.maxAttempts,
  }
  const leaseUntil = new Date(Date.now() + options.policy.leaseMs).toISOString()
  const job = await options.jobs.begin(claim, leaseUntil)
  if (!job) return 'skipped'
  const outcome = await options.runner.run(job, claim)
  if (outcome === 'retry') throw new Error(`Attempt ${claim.attempt} failed; retry scheduled`)
  if (outcome === 'failed') throw new UnrecoverableError(`Attempt ${claim.attempt} failed for good`)
  if (outcome === 'released' || outcome === 'deferred') {
    const due = outcome === 'deferred' ? (await options.jobs.findById(claim.jobId))?.nextRunAt : undefined
    await bullJob.moveToDelayed(due ? Date.parse(due) : Date.now(), token)
    throw new DelayedError()
  }
  return outcome
}
