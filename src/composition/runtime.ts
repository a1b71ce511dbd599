import { sql } from 'kysely'
import type { AppDeps } from '../app/app-deps.js'
import type { HealthProbe } from '../app/health.js'
import type { EventNews, EventSignal } from '../app/ports.js'
import type { OrchestratorEvent } from '../domain/event.js'
import { createInProcessSignal } from '../adapters/live/in-process.signal.js'
import { createPostgresSignal } from '../adapters/live/postgres.signal.js'
import { createRedisSignal } from '../adapters/live/redis.signal.js'
import { assertRedisReachable } from '../adapters/queue/redis-connection.js'
import { openDatabase, type DatabaseHandle } from '../adapters/storage/database.js'
import { migrateToLatest } from '../adapters/storage/migrations/index.js'
import { createRepositories, createUnitOfWork } from '../adapters/storage/unit-of-work.js'
import { configWarnings, type Config } from '../config.js'
import type { Logger } from '../logging.js'
import { createMetrics, type Metrics } from '../metrics.js'
import { buildOutwardAdapters, type OutwardAdapters } from './adapters.js'
import { createCommitBus, type CommitBus } from './commit-bus.js'
import { notificationOutbox } from './notifications.js'

/** Everything one process builds once: every entry point (serve, worker, demo) starts here. */
export interface Runtime {
  readonly config: Config
  readonly logger: Logger
  readonly database: DatabaseHandle
  readonly metrics: Metrics
  readonly signal: EventSignal
  /** Where the one unit of work announces commits; queues subscribe to it. */
  readonly bus: CommitBus
  /** The one unit of work and the repositories outside a transaction, for every use case and job. */
  readonly deps: AppDeps
  readonly adapters: OutwardAdapters
  /** Dependencies whose reachability decides readiness (database, and Redis when used). */
  readonly probes: readonly HealthProbe[]
  close(): Promise<void>
}

/** Opens the database (schema brought up to date), the live signal and the adapters. */
export const openRuntime = async (config: Config, logger: Logger): Promise<Runtime> => {
  for (const warning of configWarnings(config)) logger.warn(warning)
  // Before anything is opened: an unreachable Redis ends start-up with one line (ORC_QUEUE_UNAVAILABLE).
  if (config.queue.backend === 'redis') await assertRedisReachable(config.queue.url)
  const database = openDatabase(config.database)
  try {
    const report = await migrateToLatest(database)
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'database migrated')
  } catch (error) {
    await database.close()
    throw error
  }
  const shared = await openSharedSignal(config, logger)
  const signal = shared?.signal ?? createInProcessSignal(liveListenerFailed(logger))
  const { bus, deps } = createStorageCore(config, database, logger)
  // Events written by use cases and job handlers reach live streams in every process.
  bus.subscribe({
    onCommit: (committed) => committed.events.length > 0 && signal.notify(committed.events.map(newsOf)),
  })
  const probes = [
    databaseProbe(database),
    ...(shared ? [{ name: shared.name, check: shared.signal.ping }] : []),
  ]
  return {
    config,
    logger,
    database,
    metrics: createMetrics(),
    signal,
    bus,
    deps,
    adapters: buildOutwardAdapters(config),
    probes,
    close: async () => {
      await shared?.signal.close()
      await database.close()
    },
  }
}

const liveListenerFailed =
  (logger: Logger) =>
  (error: unknown): void =>
    logger.error({ err: error }, 'a live listener failed')

/** What the live signal names of a committed event (its id, where it belongs, its type). */
const newsOf = ({ id, projectId, protocolRunId, eventType }: OrchestratorEvent): EventNews => ({
  id,
  projectId,
  protocolRunId,
  eventType,
})

export interface StorageCore {
  readonly bus: CommitBus
  readonly deps: AppDeps
}

/**
 * The one unit of work of a process (publishing its commits on the bus) and its repositories for
 * reads. `openRuntime` uses it; so do queue benchmarks and harnesses that open no live signal.
 */
export const createStorageCore = (config: Config, database: DatabaseHandle, logger: Logger): StorageCore => {
  const bus = createCommitBus(logger)
  const deps: AppDeps = {
    uow: createUnitOfWork(database.db, bus.publish, notificationOutbox(config)),
    repos: createRepositories(database.db),
    jobPolicy: { maxAttempts: config.jobs.maxAttempts },
    abortRun: (protocolRunId) => bus.abortRun(protocolRunId),
  }
  return { bus, deps }
}

/**
 * The signal that wakes live streams in every process: Redis pub/sub when Redis is configured,
 * else Postgres LISTEN/NOTIFY on a Postgres database; undefined for a single process (SQLite).
 */
const openSharedSignal = async (config: Config, logger: Logger) => {
  if (config.queue.backend === 'redis')
    return { name: 'redis', signal: await createRedisSignal(config.queue.url, liveListenerFailed(logger)) }
  if (config.database.dialect === 'postgres')
    return { name: 'live_events', signal: await createPostgresSignal(config.database.url, { logger }) }
  return undefined
}

export const databaseProbe = (database: DatabaseHandle): HealthProbe => ({
  name: 'db',
  check: async () => {
    await sql`select 1`.execute(database.db)
  },
})
