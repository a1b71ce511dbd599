import type { JobType } from '../../domain/job.js'
import type { JsonValue } from '../../domain/json.js'
import type { UnitOfWork } from '../ports.js'
import type { PayloadOf } from './job-payloads.js'

/** The attempt a handler runs as: its job id, attempt number and abort signal (given besides the payload). */
export interface JobAttempt {
  /** Aborted on cancellation of the job's run, on timeout and on shutdown past the grace period. */
  readonly signal: AbortSignal
  /** 1 for the first attempt. */
  readonly attempt: number
  readonly maxAttempts: number
  readonly jobId: string
}

/**
 * A job handler: idempotent (re-reads state, checks the transition is legal, does nothing when
 * the work is already done). Throw to retry; throw PermanentJobError to fail without retrying.
 */
export type JobHandler<T extends JobType = JobType> = (
  payload: PayloadOf<T>,
  attempt: JobAttempt,
) => Promise<JsonValue | void>

/** One handler for every job type: a queue is built only with a complete set (no fallback that fails jobs). */
export type JobHandlers = { readonly [T in JobType]: JobHandler<T> }

/** What the queue gives the function that makes its handlers: the process's one unit of work. */
export interface JobHandlerDeps {
  readonly uow: UnitOfWork
}

/** A failure that no retry can fix (bad input, invalid spec, budget exceeded). */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError'

  constructor(
    message: string,
    readonly category: string = 'validation',
  ) {
    super(message)
  }
}
