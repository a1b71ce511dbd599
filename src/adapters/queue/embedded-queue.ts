import { randomUUID } from 'node:crypto'
import type { ExpireLease } from '../../app/queue-runtime/job-lease-expiry.js'
import type { JobRunner, RunOutcome } from '../../app/queue-runtime/job-runner.js'
import type { RunningJobs } from '../../app/queue-runtime/run-aborts.js'
import type { JobQueue } from '../../app/queue.js'
import { DEFAULT_QUEUE, type Job } from '../../domain/job.js'
import type { Logger } from '../../logging.js'
import type { JobLedger } from '../storage/job-ledger.js'
import { drainWithin } from './drain.js'
import { createMaintenance, type MaintenanceOptions } from './maintenance.js'

export interface EmbeddedQueueOptions extends MaintenanceOptions {
  readonly ledger: JobLedger
  readonly runner: JobRunner
  /** Settles an attempt whose lease ran out (a counted, failed attempt). */
  readonly expireLease: ExpireLease
  readonly running: RunningJobs
  readonly concurrency: number
  readonly leaseMs: number
  readonly queues?: readonly string[]
  /**
   * Safety-net poll for due jobs (delayed retries, jobs committed by another process): how long
   * after the last claim the queue looks again when nothing has woken it.
   */
  readonly pollMs?: number
  readonly logger?: Logger
}

const DEFAULT_POLL_MS = 250

/** Outcomes after which the job's row is queued again. */
const REQUEUED: ReadonlySet<RunOutcome> = new Set(['retry', 'deferred', 'released'])

/**
 * The queue inside the API process: the jobs table is the queue. Due rows are claimed by
 * compare-and-set with a lease that the runner renews; a dead process's leases run out and the
 * maintenance pass gives its jobs to whoever is alive, so jobs survive restarts on either database.
 */
export const createEmbeddedQueue = (options: EmbeddedQueueOptions): JobQueue => {
  const dispatcher = createDispatcher(options)
  const maintenance = createMaintenance(options, async () => {
    const expired = await settleExpiredLeases(options)
    if (expired + (await options.ledger.releaseOrphanHeld()) > 0) dispatcher.pump()
  })
  return {
    backend: 'embedded',
    async start() {
      dispatcher.start()
      maintenance.start()
    },
    async stop(graceMs) {
      await maintenance.stop()
      await dispatcher.stop(graceMs)
    },
    async abortRun(protocolRunId) {
      options.running.abortRun(protocolRunId)
    },
    wake(jobs: readonly Job[]) {
      if (jobs.some((job) => job.status === 'queued')) dispatcher.pump()
    },
  }
}

const EXPIRED_BATCH = 100

/** Attempts whose worker died count as failed attempts: retried with backoff, or failed for good. */
const settleExpiredLeases = async (options: EmbeddedQueueOptions): Promise<number> => {
  const expired = await options.ledger.listExpired(EXPIRED_BATCH)
  for (const attempt of expired) {
    const outcome = await options.expireLease(attempt)
    options.logger?.warn(
      { job_id: attempt.job.id, attempt: attempt.job.attempts, outcome },
      'job lease expired: its worker died or stalled',
    )
  }
  return expired.length
}

const createDispatcher = (options: EmbeddedQueueOptions) => {
  const workerId = `embedded-${process.pid}-${randomUUID().slice(0, 8)}`
  const queues = options.queues ?? [DEFAULT_QUEUE]
  let active = 0
  // Until start() and after stop(), wake-ups are ignored: a queue that was never started runs nothing.
  let stopping = true
  let claiming: Promise<void> | undefined
  let again = false
  // Set by an announcement made while a claim pass is under way: that claim may not have seen it.
  let announced = false
  // False once a claim saw no due job beyond those it took, until something is announced
  // (a wake-up, the poll, the maintenance pass, a job queued again by its own settlement): a slot
  // freed meanwhile has nothing to claim, so it sends no statement. Jobs committed by other
  // processes or due later are the poll's, as before.
  let mayHaveMore = true
  let timer: NodeJS.Timeout | undefined

  const claimBatch = async (): Promise<void> => {
    do {
      again = false
      announced = false
      const free = options.concurrency - active
      if (stopping || free <= 0) return
      const token = `${workerId}:${randomUUID()}`
      const leaseUntil = new Date(Date.now() + options.leaseMs).toISOString()
      const claimed = await options.ledger.claimDue({ token, limit: free, leaseUntil, queues })
      // The poll is a safety net for what no wake-up announces: it looks `pollMs` after the last
      // look, not also between the claims of a busy queue.
      timer?.refresh()
      for (const job of claimed.jobs) launch(job, token)
      // A slot freed during the claim needs no claim of its own: this one saw every due job
      // unless it filled its slots. What was announced meanwhile it may not have seen.
      again = (claimed.jobs.length === free && claimed.mayHaveMore) || announced
      if (!again) mayHaveMore = false
    } while (again)
  }

  const launch = (job: Job, token: string): void => {
    active += 1
    const claim = { jobId: job.id, token, attempt: job.attempts, maxAttempts: job.maxAttempts }
    void options.runner
      .run(job, claim)
      .then(
        // Its own settlement queued it again (a retry, a deferral, a release), possibly due now:
        // nothing else announces that.
        (outcome) => {
          if (REQUEUED.has(outcome)) announce()
        },
        (error: unknown) => options.logger?.error({ err: error, job_id: job.id }, 'job settlement failed'),
      )
      .finally(() => {
        active -= 1
        if (mayHaveMore) claimSoon()
      })
  }

  const announce = (): void => {
    mayHaveMore = true
    announced = true
  }

  /** Something may be due: a wake-up, the poll, expired leases given back. */
  const pump = (): void => {
    announce()
    claimSoon()
  }

  const claimSoon = (): void => {
    if (stopping) return
    if (claiming) {
      again = true
      return
    }
    // Claimed in the check phase that follows: the jobs one settlement batch finished free their
    // slots in the same turn, and one statement then claims for all of them.
    claiming = new Promise<void>((resolve) => setImmediate(resolve))
      .then(claimBatch)
      .catch((error: unknown) => options.logger?.error({ err: error }, 'claiming jobs failed'))
      .finally(() => {
        claiming = undefined
        // Announced after the last pass had looked: claim for it now rather than at the poll.
        if (again) claimSoon()
      })
  }

  return {
    pump,
    start() {
      stopping = false
      timer = setInterval(pump, options.pollMs ?? DEFAULT_POLL_MS)
      pump()
    },
    async stop(graceMs: number) {
      stopping = true
      clearInterval(timer)
      await claiming
      await drainWithin(
        () => active,
        graceMs,
        () => options.running.abortAll('shutdown'),
      )
    },
  }
}
