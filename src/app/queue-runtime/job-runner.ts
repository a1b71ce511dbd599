import type { Job, JobType } from '../../domain/job.js'
import type { BackoffPolicy } from '../../domain/job-policy.js'
import type { Logger } from '../../logging.js'
import type { JobRepository, UnitOfWork } from '../ports.js'
import type { JobClaim } from '../job-claim.port.js'
import { JobDeferral } from './job-deferral.js'
import { classifyJobError, type ClassifiedError } from './job-errors.js'
import { recordFailure } from './job-failure.js'
import type { JobHandler, JobHandlers } from './job-handler.js'
import { watchAttempt } from './job-heartbeat.js'
import { precheckJob, type PrecheckOutcome } from './job-precheck.js'
import { JobAbort, type RunningJobs } from './run-aborts.js'

/** How a claimed attempt ended; `lost` means another claim took the job over meanwhile. */
export type RunOutcome = PrecheckOutcome | 'finished' | 'retry' | 'failed' | 'released' | 'deferred'

/** Attempts, backoff, timeouts and leases: the same numbers for both queue backends. */
export interface JobRuntimePolicy extends BackoffPolicy {
  readonly maxAttempts: number
  /** Per job type: the handler's signal is aborted (and its child processes killed) after this. */
  readonly timeoutsMs: Readonly<Record<JobType, number>>
  /** A claim not renewed for this long is presumed dead and its job given to another worker. */
  readonly leaseMs: number
}

/** Counts finished attempts (`jobs_processed_total`, `jobs_duration_seconds`). */
export interface JobMetrics {
  observe(jobType: JobType, status: 'completed' | 'retried' | 'failed', seconds: number): void
}

export interface JobRunnerDeps {
  readonly uow: UnitOfWork
  /**
   * The job repository outside any transaction, for what is one statement anyway (the precheck's
   * read, an attempt's settlement): a transaction around it would only add round trips.
   */
  readonly jobs: Pick<JobRepository, 'precheckFacts' | 'settle'>
  readonly handlers: JobHandlers
  readonly policy: JobRuntimePolicy
  readonly running: RunningJobs
  readonly metrics?: JobMetrics
  readonly logger?: Logger
}

export interface JobRunner {
  /**
   * Runs one attempt of a job whose row was already started under `claim` (by the embedded
   * claim or by `JobRepository.begin`) and settles the row. Never throws for handler errors.
   */
  run(job: Job, claim: JobClaim): Promise<RunOutcome>
}

export const createJobRunner = (deps: JobRunnerDeps): JobRunner => ({
  async run(job, claim) {
    const precheck = await precheckJob(deps, job, claim)
    if (precheck !== 'proceed') return precheck
    const log = deps.logger?.child(jobLogBindings(job))
    log?.info({ attempt: claim.attempt }, 'job_start')
    const startedMs = Date.now()
    const outcome = await attempt(deps, job, claim)
    const seconds = (Date.now() - startedMs) / 1000
    const status = METRIC_STATUS[outcome]
    if (status) deps.metrics?.observe(job.type, status, seconds)
    log?.info({ attempt: claim.attempt, outcome, duration_ms: Math.round(seconds * 1000) }, 'job_end')
    return outcome
  },
})

/**
 * What every log line about a job carries: its ids, and the `request_id` of the request that
 * enqueued it (written into the payload by enqueueJob), so a request's lines and its jobs' lines join.
 */
export const jobLogBindings = (job: Job): Record<string, string | number | null> => {
  const requestId = job.payload.request_id
  return {
    job_id: job.id,
    job_type: job.type,
    protocol_run_id: job.protocolRunId,
    ...(typeof requestId === 'string' ? { request_id: requestId } : {}),
  }
}

const METRIC_STATUS: Partial<Record<RunOutcome, 'completed' | 'retried' | 'failed'>> = {
  finished: 'completed',
  retry: 'retried',
  failed: 'failed',
}

const attempt = async (deps: JobRunnerDeps, job: Job, claim: JobClaim): Promise<RunOutcome> => {
  const controller = new AbortController()
  const untrack = deps.running.track(job.protocolRunId, controller)
  const stopWatching = watchAttempt(deps, job, claim, controller)
  let result: Awaited<ReturnType<typeof invoke>>
  try {
    result = await raceAbort(invoke(deps.handlers, job, claim, controller.signal), controller.signal)
  } catch (error) {
    stopWatching()
    untrack()
    return persist(deps, job, () => settleError(deps, job, claim, controller.signal, error))
  }
  stopWatching()
  untrack()
  const finished = { status: 'finished' as const, result: result ?? null }
  return persist(deps, job, async () => ((await deps.jobs.settle(claim, finished)) ? 'finished' : 'lost'))
}

const PERSIST_TRIES = 3

/**
 * Writes an attempt's outcome, retrying a transient storage error a few times. A storage error
 * is never taken for a handler failure; if every try fails the row stays started and its lease
 * runs out, so the job is retried (handlers are idempotent).
 */
const persist = async (
  deps: JobRunnerDeps,
  job: Job,
  write: () => Promise<RunOutcome>,
): Promise<RunOutcome> => {
  for (let tryNo = 1; ; tryNo += 1) {
    try {
      return await write()
    } catch (error) {
      deps.logger?.warn(
        { err: error, ...jobLogBindings(job), try: tryNo },
        'recording the job outcome failed',
      )
      if (tryNo >= PERSIST_TRIES) return 'lost'
      await new Promise((resolve) => setTimeout(resolve, 100 * tryNo))
    }
  }
}

const invoke = (handlers: JobHandlers, job: Job, claim: JobClaim, signal: AbortSignal) => {
  // The row's type and payload were written together by enqueueJob, so they match.
  const handler = handlers[job.type] as JobHandler
  const context = { signal, attempt: claim.attempt, maxAttempts: claim.maxAttempts, jobId: job.id }
  return handler(job.payload as never, context)
}

/** A handler that ignores its signal must not keep the attempt (and its slot) forever. */
const raceAbort = <T>(work: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    if (signal.aborted) onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })

const settleError = async (
  deps: JobRunnerDeps,
  job: Job,
  claim: JobClaim,
  signal: AbortSignal,
  error: unknown,
): Promise<RunOutcome> => {
  const cause = signal.reason instanceof JobAbort ? signal.reason.abortCause : undefined
  if (cause === 'lease_lost') return 'lost'
  if (cause === 'cancelled' || cause === 'shutdown') {
    const settlement =
      cause === 'cancelled'
        ? { status: 'cancelled' as const, error: 'Run cancelled' }
        : { status: 'released' as const }
    const settled = await deps.jobs.settle(claim, settlement)
    if (!settled) return 'lost'
    return cause === 'cancelled' ? 'cancelled' : 'released'
  }
  if (cause === undefined && error instanceof JobDeferral) {
    const deferred = { status: 'deferred' as const, nextRunAt: error.until.toISOString() }
    return (await deps.jobs.settle(claim, deferred)) ? 'deferred' : 'lost'
  }
  const classified = cause === 'timeout' ? timeoutError(job, deps.policy) : classifyJobError(error)
  return deps.uow.run((repos) => recordFailure(repos, job, claim, classified, deps.policy))
}

const timeoutError = (job: Job, policy: JobRuntimePolicy): ClassifiedError => ({
  message: `${job.type} timed out after ${Math.round(policy.timeoutsMs[job.type] / 1000)} s`,
  type: 'JobTimeoutError',
  category: 'runtime',
  retryable: true,
})
