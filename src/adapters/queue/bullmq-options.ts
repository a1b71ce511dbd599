import type { JobsOptions, MinimalJob } from 'bullmq'
import { backoffDelayMs, type BackoffPolicy } from '../../domain/job-policy.js'
import type { Job } from '../../domain/job.js'

/** Where this deployment's BullMQ keys live; tests give every case its own prefix. */
export interface BullmqNames {
  readonly prefix: string
}

export const DEFAULT_BULLMQ_PREFIX = 'tasksgodzilla'

/** The pub/sub channel on which `abortRun` reaches the handlers running in every worker. */
export const abortChannel = (names: BullmqNames): string => `${names.prefix}:abort-run`

/** Our backoff strategy's name in the job options; workers register the function under it. */
export const BACKOFF_TYPE = 'tasksgodzilla'

/**
 * How a job row becomes a BullMQ job: the row id is the BullMQ id (so adding it twice is a
 * no-op), BullMQ owns attempts and backoff, and finished jobs leave Redis at once — the jobs
 * table keeps their history and is what `/queues` reports.
 */
export const bullJobOptions = (job: Job): JobsOptions => ({
  jobId: job.id,
  attempts: Math.max(1, job.maxAttempts - job.attempts),
  backoff: { type: BACKOFF_TYPE },
  delay: Math.max(0, Date.parse(job.nextRunAt) - Date.now()),
  removeOnComplete: true,
  removeOnFail: true,
})

/**
 * What a BullMQ job carries: only the numbering. The payload stays in the jobs table, which the
 * worker reads when it begins the attempt. A row re-added after Redis lost it continues its count.
 */
export interface BullJobData {
  /** Attempts the row had used before this BullMQ job was added. */
  readonly attemptOffset: number
  readonly maxAttempts: number
}

export const bullJobData = (job: Job): BullJobData => ({
  attemptOffset: job.attempts,
  maxAttempts: job.maxAttempts,
})

/** The row's attempt number for a delivery of a BullMQ job. */
export const rowAttempt = (attemptsMade: number, data: BullJobData): number =>
  attemptsMade + 1 + data.attemptOffset

/** BullMQ's retry delay, computed like the embedded queue's from the row's attempt number. */
export const backoffStrategy =
  (policy: BackoffPolicy) =>
  (attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob): number => {
    const offset = (job?.data as Partial<BullJobData> | undefined)?.attemptOffset ?? 0
    return backoffDelayMs(attemptsMade + offset, policy)
  }
