import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { enqueueJob } from '../../src/app/queue-runtime/enqueue.js'
import type { Repositories, UnitOfWork } from '../../src/app/ports.js'
import type { JobQueue } from '../../src/app/queue.js'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import { loadConfig, type Config } from '../../src/config.js'
import type { Job } from '../../src/domain/job.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import type { StepRun } from '../../src/domain/step-run.js'
import { createLogger } from '../../src/logging.js'
import {
  createQueueRuntime,
  createStorageCore,
  createWorkerRuntime,
  type QueueTuning,
} from '../../src/composition/index.js'
import { createTestDatabase, type TestDialect } from './databases.js'
import { seedProject, seedRun, unique } from './fixtures.js'
import { createTestHandlers } from './queue-handlers.js'

export const REDIS_URL = process.env.TASKSGODZILLA_TEST_REDIS_URL
export const BACKENDS = ['embedded', 'redis'] as const
export type TestBackend = (typeof BACKENDS)[number]
export const backendUnavailable = (backend: TestBackend): boolean => backend === 'redis' && !REDIS_URL

/** Test-speed settings: short backoff, leases and polls; a timeout of one second for agent jobs. */
export const FAST_ENV: Record<string, string> = {
  TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '50',
  TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '200',
  TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS: '1',
  TASKSGODZILLA_LOG_LEVEL: 'warn',
}
export const FAST_TUNING: QueueTuning = {
  leaseMs: 5_000,
  pollMs: 100,
  reconcileMs: 500,
  lockDurationMs: 5_000,
  stalledIntervalMs: 2_000,
}

export const dbEnv = (target: Config['database']): Record<string, string> =>
  target.dialect === 'sqlite' ? { TASKSGODZILLA_DB_PATH: target.path } : { TASKSGODZILLA_DB_URL: target.url }

export interface QueueHarness {
  readonly env: Record<string, string>
  readonly prefix: string
  readonly logPath: string
  readonly uow: UnitOfWork
  readonly repos: Repositories
  readonly handle: DatabaseHandle
  readonly queue: JobQueue
  /** Seeds a project and a run with one step per name (see queue-handlers.ts). */
  seed(stepNames: string[]): Promise<{ run: ProtocolRun; steps: StepRun[] }>
  enqueueStep(run: ProtocolRun, step: StepRun, maxAttempts?: number): Promise<Job>
  /** Side-effect log lines of a job: `<attempt> <pid> start|abort`. */
  effects(jobId?: string): string[]
  stop(): Promise<void>
}

/**
 * A fresh database and Redis prefix, plus (unless `inProcess` is false) the real queue of the
 * chosen backend running in this process with the test handlers: the embedded dispatcher, or
 * the relay and one BullMQ worker.
 */
export const startQueueHarness = async (
  backend: TestBackend,
  dialect: TestDialect,
  options: { inProcess?: boolean; concurrency?: number; env?: Record<string, string> } = {},
): Promise<QueueHarness> => {
  const database = await createTestDatabase(dialect)
  const prefix = `tgzq-${unique()}`
  const dir = mkdtempSync(join(tmpdir(), 'tgz-queue-'))
  const logPath = join(dir, 'effects.log')
  const env = {
    ...FAST_ENV,
    ...dbEnv(database.target),
    ...(backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL ?? '' } : {}),
    ...options.env,
  }
  const config = loadConfig(env, dir)
  const logger = createLogger(config)
  const handle = openDatabase(database.target)
  await migrateToLatest(handle)
  const parts = { config, logger, database: handle, ...createStorageCore(config, handle, logger) }
  const wiring = {
    makeHandlers: createTestHandlers(logPath),
    concurrency: options.concurrency ?? 2,
    tuning: { ...FAST_TUNING, prefix },
  }
  const queue = createQueueRuntime(parts, wiring)
  const worker =
    backend === 'redis' && options.inProcess !== false ? createWorkerRuntime(parts, wiring) : undefined
  if (options.inProcess !== false) {
    await queue.queue.start()
    await worker?.start()
  }
  const uow = queue.uow
  const harness: QueueHarness = {
    env: { ...env, HARNESS_PREFIX: prefix, HARNESS_LOG: logPath },
    prefix,
    logPath,
    uow,
    repos: parts.deps.repos,
    handle,
    queue: queue.queue,
    async seed(stepNames) {
      return uow.run(async (repos) => {
        const project = await seedProject(repos)
        const run = await seedRun(repos, project.id, 'running')
        const steps: StepRun[] = []
        for (const [index, name] of stepNames.entries())
          steps.push(
            await repos.steps.create({
              protocolRunId: run.id,
              stepIndex: index,
              stepName: `${name}~${index}`,
              stepType: 'work',
              status: 'pending',
            }),
          )
        return { run, steps }
      })
    },
    enqueueStep(run, step, maxAttempts = 3) {
      const scope = { projectId: run.projectId, protocolRunId: run.id, stepRunId: step.id }
      return uow.run((repos) =>
        enqueueJob(
          repos.jobs,
          'execute_step_job',
          { step_run_id: step.id },
          { scope, origin: { requestId: 'req-1' }, policy: { maxAttempts } },
        ),
      )
    },
    effects(jobId) {
      if (!existsSync(logPath)) return []
      const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean)
      return jobId === undefined
        ? lines
        : lines.filter((line) => line.startsWith(`${jobId} `)).map((line) => line.slice(jobId.length + 1))
    },
    async stop() {
      await worker?.stop(1_000)
      await queue.stop(1_000)
      await handle.close()
      await database.drop()
      if (backend === 'redis') await deletePrefix(prefix)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return harness
}

/** Deletes every key of one test's BullMQ prefix (never FLUSHALL: the Redis is shared). */
export const deletePrefix = async (prefix: string): Promise<void> => {
  const redis = new Redis(REDIS_URL ?? '')
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Polls `probe` until it returns a truthy value, failing after `timeoutMs`. */
export const waitFor = async <T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
