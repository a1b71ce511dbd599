import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { makeCheckHealth, type HealthProbe } from './app/health.js'
import { openDatabase, type DatabaseHandle } from './adapters/storage/database.js'
import { migrateToLatest, type MigrationReport } from './adapters/storage/migrations/index.js'
import type { Config } from './config.js'
import { buildApp } from './faces/http/build-app.js'
import type { Logger } from './logging.js'
import { createMetrics } from './metrics.js'
import { listenMetrics } from './faces/http/metrics-server.js'
import {
  createQueueRuntime,
  createWorkerRuntime,
  type QueueRuntime,
  type QueueWiringOptions,
} from './main-queue.js'

/** The only place that wires adapters to the app and the faces. */

export interface Runtime {
  readonly config: Config
  readonly logger: Logger
  readonly database: DatabaseHandle
  close(): Promise<void>
}

/** Opens the database and brings its schema up to date; every entry point starts here. */
export const openRuntime = async (config: Config, logger: Logger): Promise<Runtime> => {
  const database = openDatabase(config.database)
  try {
    const report = await migrateToLatest(database)
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'database migrated')
  } catch (error) {
    await database.close()
    throw error
  }
  return { config, logger, database, close: () => database.close() }
}

/** Applies pending migrations and reports what ran; used by `tasksgodzilla migrate`. */
export const runMigrations = async (config: Config): Promise<MigrationReport> => {
  const database = openDatabase(config.database)
  try {
    return await migrateToLatest(database)
  } finally {
    await database.close()
  }
}

export const databaseProbe = (database: DatabaseHandle): HealthProbe => ({
  name: 'db',
  check: async () => {
    await sql`select 1`.execute(database.db)
  },
})

export const createHttpServer = (runtime: Runtime): Promise<FastifyInstance> =>
  buildApp({
    logger: runtime.logger,
    bodyLimitBytes: runtime.config.api.bodyLimitBytes,
    checkHealth: makeCheckHealth({ probes: [databaseProbe(runtime.database)] }),
  })

export interface ListenOptions {
  readonly host?: string
  readonly port?: number
}

export interface RunningServer {
  readonly server: FastifyInstance
  readonly address: string
  stop(): Promise<void>
}

/**
 * Starts the API on the embedded default or the configured backends. Without an API token the
 * server stays on loopback unless a host was asked for explicitly, and says so.
 */
export const startServer = async (
  config: Config,
  logger: Logger,
  options: ListenOptions = {},
): Promise<RunningServer> => {
  const runtime = await openRuntime(config, logger)
  const queue = await startQueue(runtime)
  const server = await createHttpServer(runtime)
  const host = bindHost(config, options.host)
  if (config.api.token === undefined) {
    logger.warn(
      { host },
      'TASKSGODZILLA_API_TOKEN is not set: the API accepts every caller that can reach it',
    )
  }
  const address = await server.listen({ host, port: options.port ?? config.api.port })
  logger.info({ address, database: config.database.dialect, queue: config.queue.backend }, 'Starting API')
  return {
    server,
    address,
    stop: async () => {
      logger.info('Shutting down API')
      await server.close()
      await queue.stop(SHUTDOWN_GRACE_MS)
      await runtime.close()
    },
  }
}

const bindHost = (config: Config, requested: string | undefined): string => {
  if (requested !== undefined) return requested
  if (config.api.hostExplicit) return config.api.host
  return config.api.token === undefined ? '127.0.0.1' : '0.0.0.0'
}

// ---- Queue and workers (issue 4) ----

/** How long running jobs may take to finish on shutdown before they are handed to another worker. */
export const SHUTDOWN_GRACE_MS = 25_000

/**
 * The API process's queue: the embedded dispatcher, or the relay and reconciler feeding Redis.
 * Fails (closing the database) when Redis is unreachable.
 */
export const startQueue = async (
  runtime: Runtime,
  options: QueueWiringOptions = {},
): Promise<QueueRuntime> => {
  const queue = createQueueRuntime(runtime, options)
  try {
    await queue.queue.start()
  } catch (error) {
    await queue.stop(0)
    await runtime.close()
    throw error
  }
  return queue
}

export interface WorkerOptions {
  readonly concurrency: number
  readonly queues?: readonly string[]
  /** Serve `/metrics` on this port (0 picks a free one). */
  readonly metricsPort?: number
  readonly metricsHost?: string
  readonly graceMs?: number
}

export interface RunningWorker {
  readonly metricsAddress: string | undefined
  stop(): Promise<void>
}

/** A `tasksgodzilla worker` process: BullMQ consumers plus their own `/metrics` endpoint. */
export const startWorker = async (
  config: Config,
  logger: Logger,
  options: WorkerOptions,
  wiring: QueueWiringOptions = {},
): Promise<RunningWorker> => {
  const runtime = await openRuntime(config, logger)
  const metrics = wiring.metrics ?? createMetrics()
  const worker = createWorkerRuntime(runtime, { ...wiring, ...options, metrics })
  try {
    await worker.start()
  } catch (error) {
    await worker.stop(0).catch(() => undefined)
    await runtime.close()
    throw error
  }
  const server =
    options.metricsPort === undefined
      ? undefined
      : await listenMetrics(metrics.registry, options.metricsHost ?? '0.0.0.0', options.metricsPort)
  logger.info({ concurrency: options.concurrency, metrics: server?.address }, 'Worker started')
  return {
    metricsAddress: server?.address,
    stop: async () => {
      logger.info('Worker stopping: finishing running jobs')
      await worker.stop(options.graceMs ?? SHUTDOWN_GRACE_MS)
      await server?.close()
      await runtime.close()
    },
  }
}
