import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import type { Logger } from '../logging.js'
import { bindHost, createHttpServer } from './http.js'
import { productionHandlers } from './job-handlers.js'
import { createQueueRuntime, type QueueRuntime, type QueueWiringOptions } from './queue.js'
import { openRuntime, type Runtime } from './runtime.js'

/** How long running jobs may take to finish on shutdown before they are handed to another worker. */
export const SHUTDOWN_GRACE_MS = 25_000

export interface ListenOptions {
  readonly host?: string
  readonly port?: number
  /**
   * False for an API-only instance: it neither runs nor relays jobs, leaving them in the outbox
   * for other processes (`serve --no-jobs`).
   */
  readonly runJobs?: boolean
}

export interface RunningServer {
  readonly server: FastifyInstance
  readonly address: string
  readonly runtime: Runtime
  stop(): Promise<void>
}

/** Queue wiring other than the real handlers (tests, benchmarks, the demo). */
export type QueueWiring = (runtime: Runtime) => Partial<QueueWiringOptions>

/**
 * `tasksgodzilla serve`: the API on the embedded default or the configured backends. Without an
 * API token the server stays on loopback unless a host was asked for explicitly, and says so.
 */
export const startServer = async (
  config: Config,
  logger: Logger,
  options: ListenOptions = {},
  wiring?: QueueWiring,
): Promise<RunningServer> => {
  const runtime = await openRuntime(config, logger)
  const queue = options.runJobs === false ? undefined : await startQueue(runtime, wiring?.(runtime))
  const host = bindHost(config, options.host)
  const server = await createHttpServer(runtime, host)
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
    runtime,
    stop: async () => {
      logger.info('Shutting down API')
      await closeGracefully(server)
      await queue?.stop(SHUTDOWN_GRACE_MS)
      await runtime.close()
    },
  }
}

/**
 * The API process's queue: the embedded dispatcher, or the relay and reconciler feeding Redis;
 * the real handlers unless `options` names others. Its jobs and queue depth are counted on the
 * runtime's metrics, the ones the API serves at `/metrics`. Fails (closing the runtime) when Redis is unreachable.
 */
export const startQueue = async (
  runtime: Runtime,
  options: Partial<QueueWiringOptions> = {},
): Promise<QueueRuntime> => {
  const queue = createQueueRuntime(runtime, {
    makeHandlers: productionHandlers(runtime),
    metrics: runtime.metrics,
    ...options,
  })
  try {
    await queue.queue.start()
  } catch (error) {
    await queue.stop(0)
    await runtime.close()
    throw error
  }
  return queue
}

/**
 * Closes the HTTP server letting requests in flight finish. A keep-alive connection that was busy
 * when closing began turns idle afterwards and would hold the close for the whole keep-alive
 * timeout (72 s by default), so idle connections are swept until the close completes.
 */
const closeGracefully = async (server: FastifyInstance): Promise<void> => {
  const sweep = setInterval(() => server.server.closeIdleConnections(), 100)
  try {
    await server.close()
  } finally {
    clearInterval(sweep)
  }
}
