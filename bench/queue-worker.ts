/**
 * One worker process of bench/queue.bench.ts (BENCH_WORKER_PROCESSES=1): what `tasksgodzilla
 * worker` runs, with the bench's no-op handlers. Driven over IPC: `ready` once consuming;
 * `{ type: 'count' }` answers `{ statements, cpu }`; `{ type: 'stop' }` stops and exits.
 */
import { openDatabase } from '../src/adapters/storage/database.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logging.js'
import { createStorageCore, createWorkerRuntime } from '../src/composition/index.js'
import { CONCURRENCY_PER_WORKER, countStatements, noopHandlers, processCpuSeconds } from './queue-shared.js'

const statements = countStatements()
const config = loadConfig(process.env, process.cwd())
const database = openDatabase(config.database)
const logger = createLogger(config)
const parts = { config, logger, database, ...createStorageCore(config, database, logger) }
const worker = createWorkerRuntime(parts, {
  makeHandlers: noopHandlers,
  tuning: { prefix: process.env.BENCH_PREFIX, pollMs: 200 },
  concurrency: CONCURRENCY_PER_WORKER,
})
await worker.start()
const send = (message: unknown): void => void process.send?.(message)
process.on('message', (message: { type: string }) => {
  if (message.type === 'count') send({ statements: statements(), cpu: processCpuSeconds() })
  if (message.type === 'stop')
    void worker
      .stop(1_000)
      .then(() => database.close())
      .then(() => process.exit(0))
})
send('ready')
