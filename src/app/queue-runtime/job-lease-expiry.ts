import type { Job } from '../../domain/job.js'
import type { BackoffPolicy } from '../../domain/job-policy.js'
import type { Repositories } from '../ports.js'
import type { ClassifiedError } from './job-errors.js'
import { recordFailure, type FailureOutcome } from './job-failure.js'

/** A started job whose lease ran out, with the token of the claim that let it lapse. */
export interface ExpiredAttempt {
  readonly job: Job
  readonly token: string
}

/**
 * Settles an attempt whose worker died or stalled past its lease. It counts as a failed attempt
 * (category `worker_lost`), so a job whose handler kills its process every time is not retried
 * forever: it is queued again with backoff while attempts remain, then fails for good with
 * `job_failed` on its run and step. Guarded by the dead claim's token: if that worker came back
 * and renewed or settled meanwhile, nothing is written (`lost`).
 */
export const recordLeaseExpiry = (
  repos: Repositories,
  { job, token }: ExpiredAttempt,
  policy: BackoffPolicy,
): Promise<FailureOutcome> => {
  const claim = { jobId: job.id, token, attempt: job.attempts, maxAttempts: job.maxAttempts }
  return recordFailure(repos, job, claim, workerLost(job), policy)
}

const workerLost = (job: Job): ClassifiedError => ({
  message: `${job.type} attempt ${job.attempts} of ${job.maxAttempts} lost its worker (the process died or stalled past its lease)`,
  type: 'JobLeaseExpired',
  category: 'worker_lost',
  retryable: true,
})

/** Settles one expired attempt in its own transaction; wired by src/composition/queue.ts for both backends. */
export type ExpireLease = (expired: ExpiredAttempt) => Promise<FailureOutcome>
