import { listenMetrics } from '../faces/http/metrics-server.js'
import type { Config } from '../config.js'
import type { Logger } from '../logging.js'
import { productionHandlers } from './job-handlers.js'
import { createWorkerRuntime, type QueueWiringOptions } from './queue.js'
import { openRuntime } from './runtime.js'
import { SHUTDOWN_GRACE_MS } from './serve.js'

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

/** `tasksgodzilla worker`: BullMQ consumers plus their own `/metrics` endpoint; the real handlers unless `wiring` names others. */
export const startWorker = async (
  config: Config,
  logger: Logger,
  options: WorkerOptions,
  wiring: Partial<QueueWiringOptions> = {},
): Promise<RunningWorker> => {
  const runtime = await openRuntime(config, logger)
  const metrics = wiring.metrics ?? runtime.metrics
  const worker = createWorkerRuntime(runtime, {
    makeHandlers: productionHandlers(runtime),
    ...wiring,
    ...options,
    metrics,
  })
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
