import type { JsonValue } from '../domain/json.js'

/**
 * One attempt of one job, owned by whoever holds `token`. Every write about the attempt is
 * guarded by the token, so a worker whose lease was taken over (it stalled, or was presumed dead)
 * can no longer change the job row or record events for it.
 */
export interface JobClaim {
  readonly jobId: string
  /** Unique per claim; stored as the row's `locked_by`. */
  readonly token: string
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly maxAttempts: number
}

/** What an attempt ended with, as written to the job row. */
export type JobSettlement =
  | { readonly status: 'finished'; readonly result: JsonValue | null }
  /** A retry is scheduled: the job is queued again, due at `nextRunAt`. */
  | { readonly status: 'queued'; readonly error: string; readonly nextRunAt: string }
  | { readonly status: 'failed'; readonly error: string }
  | { readonly status: 'cancelled'; readonly error: string }
  /** The run is paused: the job waits, and this attempt does not count. */
  | { readonly status: 'held' }
  /** Shutdown past the grace period: back to the queue for another worker, attempt not counted. */
  | { readonly status: 'released' }
  /** The handler deferred the job (JobDeferral): queued again, due at `nextRunAt`, attempt not counted. */
  | { readonly status: 'deferred'; readonly nextRunAt: string }
