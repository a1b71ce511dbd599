import { createJobHandlers, type JobHandlerDeps } from './app/jobs/handlers.js'
import type { JobHandlers } from './app/jobs/job-handler.js'
import { recordLeaseExpiry, type ExpireLease } from './app/jobs/job-lease-expiry.js'
import { createJobRunner, type JobMetrics, type JobRuntimePolicy } from './app/jobs/job-runner.js'
import { jobTimeoutsMs } from './app/jobs/job-timeouts.js'
import { RunningJobs } from './app/jobs/run-aborts.js'
import type { CommitListener, JobRepository, UnitOfWork } from './app/ports.js'
import type { JobQueue } from './app/queue.js'
import type { Job } from './domain/job.js'
import { DEFAULT_BULLMQ_PREFIX } from './adapters/queue/bullmq-options.js'
import { createBullmqQueue } from './adapters/queue/bullmq-queue.js'
import { createBullmqWorkers } from './adapters/queue/bullmq-worker.js'
import { createEmbeddedQueue } from './adapters/queue/embedded-queue.js'
import { sampleQueueDepth } from './adapters/queue/queue-depth.js'
import type { DatabaseHandle } from './adapters/storage/database.js'
import { batchAttemptBookkeeping, type AttemptBookkeeping } from './adapters/storage/job-attempt-batches.js'
import { createJobLedger } from './adapters/storage/job-ledger.js'
import { createRepositories, createUnitOfWork } from './adapters/storage/unit-of-work.js'
import type { Config } from './config.js'
import type { Logger } from './logging.js'
import type { Metrics } from './metrics.js'
import { notificationOutbox } from './main-notifications.js'

/** The queue's wiring (issue 4), kept apart from the API's; main.ts calls it. */

/** Knobs tests and benchmarks turn; production uses the defaults. */
export interface QueueTuning {
  readonly leaseMs?: number
  readonly pollMs?: number
  readonly reconcileMs?: number
  readonly prefix?: string
  readonly lockDurationMs?: number
  readonly stalledIntervalMs?: number
}

export interface QueueWiringOptions {
  /** The job handlers; defaults to the real ones. */
  readonly makeHandlers?: (deps: JobHandlerDeps) => JobHandlers
  /** Jobs run at once by this process (embedded dispatcher or worker). */
  readonly concurrency?: number
  readonly queues?: readonly string[]
  /** Other commit listeners (live event streams); the queue's own wake-up is added here. */
  readonly onCommit?: CommitListener
  readonly metrics?: Metrics
  readonly tuning?: QueueTuning
}

interface Parts {
  readonly config: Config
  readonly logger: Logger
  readonly database: DatabaseHandle
}

export interface QueueRuntime {
  readonly queue: JobQueue
  /** The unit of work whose commits wake the queue: use cases must write jobs through it. */
  readonly uow: UnitOfWork
  readonly jobs: JobRepository
  /** Stops the queue (see JobQueue.stop) and the depth sampler. */
  stop(graceMs: number): Promise<void>
}

const DEFAULT_LEASE_MS = 30_000

/**
 * Lets the API's unit of work (built before the queue) wake the queue and reach `abortRun`:
 * until a queue is attached, wake-ups are dropped (the queue's poll finds the jobs) and aborts
 * are no-ops.
 */
export interface QueueLink {
  wake(jobs: readonly Job[]): void
  abortRun(protocolRunId: number): Promise<void>
  attach(queue: JobQueue): void
}

export const createQueueLink = (): QueueLink => {
  let attached: JobQueue | undefined
  return {
    wake: (jobs) => {
      if (jobs.length > 0) attached?.wake(jobs)
    },
    abortRun: async (protocolRunId) => attached?.abortRun(protocolRunId),
    attach: (queue) => {
      attached = queue
    },
  }
}

export const jobRuntimePolicy = (config: Config, tuning: QueueTuning = {}): JobRuntimePolicy => ({
  maxAttempts: config.jobs.maxAttempts,
  backoffBaseMs: config.jobs.backoffBaseMs,
  backoffMaxMs: config.jobs.backoffMaxMs,
  timeoutsMs: jobTimeoutsMs(config.jobs.timeoutSeconds, config.jobs.agentTimeoutSeconds),
  leaseMs: tuning.leaseMs ?? DEFAULT_LEASE_MS,
})

/**
 * The queue of the API process: the embedded dispatcher (jobs run here), or with Redis the outbox
 * relay and reconciler (jobs run in `tasksgodzilla worker` processes). Call `queue.start()`.
 */
export const createQueueRuntime = (parts: Parts, options: QueueWiringOptions = {}): QueueRuntime => {
  const { config, logger, database } = parts
  const tuning = options.tuning ?? {}
  let queue: JobQueue | undefined
  const uow = createUnitOfWork(
    database.db,
    (committed) => {
      queue?.wake(committed.jobs)
      options.onCommit?.(committed)
    },
    notificationOutbox(config),
  )
  const ledger = createJobLedger(database)
  const common = {
    ledger,
    expireLease: leaseExpiry(uow, runnerPolicy(parts, options)),
    retentionHours: config.jobs.retentionHours,
    reconcileMs: tuning.reconcileMs,
    logger,
  }
  if (config.queue.backend === 'redis') {
    const names = { prefix: tuning.prefix ?? DEFAULT_BULLMQ_PREFIX }
    queue = createBullmqQueue({ ...common, url: config.queue.url, names, relayPollMs: tuning.pollMs })
  } else {
    const running = new RunningJobs()
    const runner = createJobRunner({
      ...runnerDeps(parts, uow, options, attemptBookkeeping(database)),
      running,
    })
    const concurrency = options.concurrency ?? 2
    queue = createEmbeddedQueue({
      ...common,
      runner,
      running,
      concurrency,
      leaseMs: runnerPolicy(parts, options).leaseMs,
      pollMs: tuning.pollMs,
      queues: options.queues,
    })
  }
  const jobs = createRepositories(database.db).jobs
  const stopSampling = options.metrics ? sampleQueueDepth(jobs, options.metrics.queueDepth) : () => undefined
  const started = queue
  return {
    queue: started,
    uow,
    jobs,
    stop: async (graceMs) => {
      stopSampling()
      await started.stop(graceMs)
    },
  }
}

export interface WorkerRuntime {
  readonly uow: UnitOfWork
  /** Connects (failing fast when Redis is unreachable) and starts consuming. */
  start(): Promise<void>
  stop(graceMs: number): Promise<void>
}

/**
 * The BullMQ consumers of a `tasksgodzilla worker` process, plus a relay and reconciler of its
 * own so that jobs its handlers enqueue reach Redis at once (both are idempotent across processes).
 */
export const createWorkerRuntime = (parts: Parts, options: QueueWiringOptions = {}): WorkerRuntime => {
  const { config, logger, database } = parts
  if (config.queue.backend !== 'redis') throw new Error('worker processes need the Redis backend')
  const tuning = options.tuning ?? {}
  const policy = runnerPolicy(parts, options)
  let wakeRelay = (_jobs: readonly Job[]): void => undefined
  const uow = createUnitOfWork(
    database.db,
    (committed) => {
      wakeRelay(committed.jobs)
      options.onCommit?.(committed)
    },
    notificationOutbox(config),
  )
  const relay = createBullmqQueue({
    ledger: createJobLedger(database),
    expireLease: leaseExpiry(uow, policy),
    retentionHours: config.jobs.retentionHours,
    reconcileMs: tuning.reconcileMs,
    logger,
    url: config.queue.url,
    names: { prefix: tuning.prefix ?? DEFAULT_BULLMQ_PREFIX },
    relayPollMs: tuning.pollMs,
  })
  wakeRelay = (jobs) => relay.wake(jobs)
  const running = new RunningJobs()
  const bookkeeping = attemptBookkeeping(database)
  const runner = createJobRunner({ ...runnerDeps(parts, uow, options, bookkeeping), running })
  const workers = createBullmqWorkers({
    url: config.queue.url,
    names: { prefix: tuning.prefix ?? DEFAULT_BULLMQ_PREFIX },
    jobs: { ...bookkeeping, findById: createRepositories(database.db).jobs.findById },
    runner,
    running,
    policy,
    concurrency: options.concurrency ?? 1,
    queues: options.queues,
    lockDurationMs: tuning.lockDurationMs,
    stalledIntervalMs: tuning.stalledIntervalMs,
    logger,
  })
  const jobs = createRepositories(database.db).jobs
  let stopSampling = (): void => undefined
  return {
    uow,
    start: async () => {
      await relay.start()
      await workers.start()
      if (options.metrics) stopSampling = sampleQueueDepth(jobs, options.metrics.queueDepth)
    },
    stop: async (graceMs) => {
      stopSampling()
      await workers.stop(graceMs)
      await relay.stop(graceMs)
    },
  }
}

const leaseExpiry =
  (uow: UnitOfWork, policy: JobRuntimePolicy): ExpireLease =>
  (expired) =>
    uow.run((repos) => recordLeaseExpiry(repos, expired, policy))

const runnerPolicy = (parts: Parts, options: QueueWiringOptions): JobRuntimePolicy =>
  jobRuntimePolicy(parts.config, options.tuning)

const bookkeepingByDatabase = new WeakMap<DatabaseHandle, AttemptBookkeeping>()

/** One per database handle (one per process): every job the process runs shares the round trips. */
const attemptBookkeeping = (database: DatabaseHandle): AttemptBookkeeping => {
  let bookkeeping = bookkeepingByDatabase.get(database)
  if (!bookkeeping) {
    bookkeeping = batchAttemptBookkeeping(database, createRepositories(database.db).jobs)
    bookkeepingByDatabase.set(database, bookkeeping)
  }
  return bookkeeping
}

const runnerDeps = (
  parts: Parts,
  uow: UnitOfWork,
  options: QueueWiringOptions,
  jobs: AttemptBookkeeping,
) => ({
  uow,
  jobs,
  handlers: (options.makeHandlers ?? createJobHandlers)({ uow }),
  policy: runnerPolicy(parts, options),
  metrics: options.metrics ? jobMetrics(options.metrics) : undefined,
  logger: parts.logger,
})

const jobMetrics = (metrics: Metrics): JobMetrics => ({
  observe(jobType, status, seconds) {
    metrics.jobsProcessed.inc({ job_type: jobType, status })
    metrics.jobDuration.observe({ job_type: jobType, status }, seconds)
  },
})
