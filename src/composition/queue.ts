import type { AppDeps } from '../app/app-deps.js'
import type { JobHandlerDeps, JobHandlers } from '../app/queue-runtime/job-handler.js'
import { recordLeaseExpiry, type ExpireLease } from '../app/queue-runtime/job-lease-expiry.js'
import { createJobRunner, type JobMetrics, type JobRuntimePolicy } from '../app/queue-runtime/job-runner.js'
import { jobTimeoutsMs } from '../app/queue-runtime/job-timeouts.js'
import { RunningJobs } from '../app/queue-runtime/run-aborts.js'
import type { JobRepository, UnitOfWork } from '../app/ports.js'
import type { JobQueue } from '../app/queue.js'
import { DEFAULT_BULLMQ_PREFIX } from '../adapters/queue/bullmq-options.js'
import { createBullmqQueue } from '../adapters/queue/bullmq-queue.js'
import { createBullmqWorkers } from '../adapters/queue/bullmq-worker.js'
import { createEmbeddedQueue } from '../adapters/queue/embedded-queue.js'
import { sampleQueueDepth } from '../adapters/queue/queue-depth.js'
import type { DatabaseHandle } from '../adapters/storage/database.js'
import { createJobLedger } from '../adapters/storage/job-ledger.js'
import type { Config } from '../config.js'
import type { Logger } from '../logging.js'
import type { Metrics } from '../metrics.js'
import { attemptBookkeeping } from './attempt-bookkeeping.js'
import type { CommitBus } from './commit-bus.js'

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
  /** The job handlers; required so that no queue runs with handlers that fail every job. */
  readonly makeHandlers: (deps: JobHandlerDeps) => JobHandlers
  /** Jobs run at once by this process (embedded dispatcher or worker). */
  readonly concurrency?: number
  readonly queues?: readonly string[]
  readonly metrics?: Metrics
  readonly tuning?: QueueTuning
}

/** What a queue needs from the process's runtime: its one unit of work and the bus that announces commits. */
export interface QueueParts {
  readonly config: Config
  readonly logger: Logger
  readonly database: DatabaseHandle
  readonly bus: CommitBus
  readonly deps: Pick<AppDeps, 'uow' | 'repos'>
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

export const jobRuntimePolicy = (config: Config, tuning: QueueTuning = {}): JobRuntimePolicy => ({
  maxAttempts: config.jobs.maxAttempts,
  backoffBaseMs: config.jobs.backoffBaseMs,
  backoffMaxMs: config.jobs.backoffMaxMs,
  timeoutsMs: jobTimeoutsMs(config.jobs.timeoutSeconds, config.jobs.agentTimeoutSeconds),
  leaseMs: tuning.leaseMs ?? DEFAULT_LEASE_MS,
})

/**
 * The queue of the API process: the embedded dispatcher (jobs run here), or with Redis the outbox
 * relay and reconciler (jobs run in `tasksgodzilla worker` processes). It subscribes to the bus
 * (commits wake it, aborts reach its handlers). Call `queue.start()`.
 */
export const createQueueRuntime = (parts: QueueParts, options: QueueWiringOptions): QueueRuntime => {
  const { config, logger, database } = parts
  const { uow, repos } = parts.deps
  const tuning = options.tuning ?? {}
  const policy = jobRuntimePolicy(config, tuning)
  const common = {
    ledger: createJobLedger(database),
    expireLease: leaseExpiry(uow, policy),
    retentionHours: config.jobs.retentionHours,
    reconcileMs: tuning.reconcileMs,
    logger,
  }
  const queue: JobQueue =
    config.queue.backend === 'redis'
      ? createBullmqQueue({
          ...common,
          url: config.queue.url,
          names: { prefix: tuning.prefix ?? DEFAULT_BULLMQ_PREFIX },
          relayPollMs: tuning.pollMs,
        })
      : embeddedQueue(parts, options, common)
  const unsubscribe = parts.bus.subscribe({
    onCommit: (committed) => committed.jobs.length > 0 && queue.wake(committed.jobs),
    abortRun: (protocolRunId) => queue.abortRun(protocolRunId),
  })
  const stopSampling = options.metrics
    ? sampleQueueDepth(repos.jobs, options.metrics.queueDepth)
    : () => undefined
  return {
    queue,
    uow,
    jobs: repos.jobs,
    stop: async (graceMs) => {
      unsubscribe()
      stopSampling()
      await queue.stop(graceMs)
    },
  }
}

const embeddedQueue = (
  parts: QueueParts,
  options: QueueWiringOptions,
  common: Omit<Parameters<typeof createEmbeddedQueue>[0], EmbeddedOwn>,
): JobQueue => {
  const running = new RunningJobs()
  const runner = createJobRunner({ ...runnerDeps(parts, options), running })
  return createEmbeddedQueue({
    ...common,
    runner,
    running,
    concurrency: options.concurrency ?? 2,
    leaseMs: jobRuntimePolicy(parts.config, options.tuning).leaseMs,
    pollMs: options.tuning?.pollMs,
    queues: options.queues,
  })
}

type EmbeddedOwn = 'runner' | 'running' | 'concurrency' | 'leaseMs' | 'pollMs' | 'queues'

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
export const createWorkerRuntime = (parts: QueueParts, options: QueueWiringOptions): WorkerRuntime => {
  const { config, logger, database } = parts
  if (config.queue.backend !== 'redis') throw new Error('worker processes need the Redis backend')
  const { uow, repos } = parts.deps
  const tuning = options.tuning ?? {}
  const policy = jobRuntimePolicy(config, tuning)
  const names = { prefix: tuning.prefix ?? DEFAULT_BULLMQ_PREFIX }
  const relay = createBullmqQueue({
    ledger: createJobLedger(database),
    expireLease: leaseExpiry(uow, policy),
    retentionHours: config.jobs.retentionHours,
    reconcileMs: tuning.reconcileMs,
    logger,
    url: config.queue.url,
    names,
    relayPollMs: tuning.pollMs,
  })
  const running = new RunningJobs()
  const workers = createBullmqWorkers({
    url: config.queue.url,
    names,
    jobs: { ...attemptBookkeeping(database, repos.jobs), findById: repos.jobs.findById },
    runner: createJobRunner({ ...runnerDeps(parts, options), running }),
    running,
    policy,
    concurrency: options.concurrency ?? 1,
    queues: options.queues,
    lockDurationMs: tuning.lockDurationMs,
    stalledIntervalMs: tuning.stalledIntervalMs,
    logger,
  })
  let stopSampling = (): void => undefined
  let unsubscribe = (): void => undefined
  return {
    uow,
    start: async () => {
      unsubscribe = parts.bus.subscribe({
        onCommit: (committed) => committed.jobs.length > 0 && relay.wake(committed.jobs),
      })
      await relay.start()
      await workers.start()
      if (options.metrics) stopSampling = sampleQueueDepth(repos.jobs, options.metrics.queueDepth)
    },
    stop: async (graceMs) => {
      unsubscribe()
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

const runnerDeps = (parts: QueueParts, options: QueueWiringOptions) => ({
  uow: parts.deps.uow,
  jobs: attemptBookkeeping(parts.database, parts.deps.repos.jobs),
  handlers: options.makeHandlers({ uow: parts.deps.uow }),
  policy: jobRuntimePolicy(parts.config, options.tuning),
  metrics: options.metrics ? jobMetrics(options.metrics) : undefined,
  logger: parts.logger,
})

const jobMetrics = (metrics: Metrics): JobMetrics => ({
  observe(jobType, status, seconds) {
    metrics.jobsProcessed.inc({ job_type: jobType, status })
    metrics.jobDuration.observe({ job_type: jobType, status }, seconds)
  },
})
