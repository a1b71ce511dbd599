/**
 * A real queue process for crash tests: `worker` runs BullMQ consumers (as `tasksgodzilla worker`
 * does), `embedded` runs the embedded dispatcher (as `serve` does), both through main.ts with the
 * test handlers. Configured by the usual TASKSGODZILLA_* variables plus HARNESS_ROLE, HARNESS_LOG,
 * HARNESS_PREFIX, HARNESS_CONCURRENCY and HARNESS_LEASE_MS. Prints `ready` once consuming; SIGTERM stops it gracefully (printing `stopping`).
 */
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { openRuntime, startQueue, startWorker } from '../../src/composition/index.js'
import { FAST_TUNING } from './queue-harness.js'
import { createTestHandlers } from './queue-handlers.js'

const env = process.env
const config = loadConfig(env, process.cwd())
const logger = createLogger(config)
const concurrency = Number(env.HARNESS_CONCURRENCY ?? '1')
const wiring = {
  makeHandlers: createTestHandlers(env.HARNESS_LOG ?? '/dev/null'),
  concurrency,
  tuning: {
    ...FAST_TUNING,
    prefix: env.HARNESS_PREFIX,
    // A lease shorter than the longest stall of a loaded machine hands live jobs over (at-least-once).
    ...(env.HARNESS_LEASE_MS
      ? { leaseMs: Number(env.HARNESS_LEASE_MS), lockDurationMs: Number(env.HARNESS_LEASE_MS) }
      : {}),
  },
}

const stop =
  env.HARNESS_ROLE === 'embedded'
    ? await (async () => {
        const runtime = await openRuntime(config, logger)
        const queue = await startQueue(runtime, wiring)
        return async () => {
          await queue.stop(Number(env.HARNESS_GRACE_MS ?? '2000'))
          await runtime.close()
        }
      })()
    : (
        await startWorker(
          config,
          logger,
          { concurrency, graceMs: Number(env.HARNESS_GRACE_MS ?? '2000') },
          wiring,
        )
      ).stop

process.stdout.write('ready\n')
process.once('SIGTERM', () => {
  stop().then(
    () => process.exit(0),
    () => process.exit(1),
  )
  // Printed once stop() has synchronously stopped taking jobs.
  process.stdout.write('stopping\n')
})
