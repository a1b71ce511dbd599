/**
 * A real queue process running the real protocol handlers, for crash tests of agent runs:
 * HARNESS_ROLE `embedded` runs the embedded dispatcher (as `serve` does), `worker` the BullMQ
 * consumers (as `tasksgodzilla worker` does). Configured by TASKSGODZILLA_* variables plus
 * HARNESS_PREFIX (BullMQ key prefix). Prints `ready` once consuming; meant to be killed.
 */
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { openRuntime, startQueue, startWorker } from '../../src/composition/index.js'
import { FAST_TUNING } from './queue-harness.js'

const env = process.env
const config = loadConfig(env, process.cwd())
const logger = createLogger(config)
const tuning = { ...FAST_TUNING, ...(env.HARNESS_PREFIX ? { prefix: env.HARNESS_PREFIX } : {}) }

if (env.HARNESS_ROLE === 'worker')
  await startWorker(config, logger, { concurrency: 1, graceMs: 1_000 }, { tuning })
else await startQueue(await openRuntime(config, logger), { tuning, concurrency: 1 })
process.stdout.write('ready\n')
