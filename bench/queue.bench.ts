/**
 * Queue throughput and latency (issue 4). No-op jobs through the whole path — enqueue in a unit
 * of work → claim → one step transition + event → done — on Postgres+Redis (BullMQ) and on the
 * embedded queue, with 1, 2 and 4 workers, next to raw BullMQ add/process of empty jobs measured
 * in the same run. Needs TASKSGODZILLA_TEST_PG_URL and TASKSGODZILLA_TEST_REDIS_URL.
 * Workers are in-process consumers (BullMQ workers, or embedded dispatch slots) in this process;
 * with BENCH_WORKER_PROCESSES=1 the BullMQ workers are processes of their own (bench/queue-worker.ts,
 * as `tasksgodzilla worker` runs in production) and this process only enqueues and relays.
 * BENCH_JOBS (default 1000), BENCH_WORKERS (default 1,2,4) and BENCH_BACKENDS (default
 * redis,embedded) narrow a run; the raw BullMQ baseline is always measured. A last Redis row runs
 * BENCH_PROCESS_ROW (default 4; 0 skips it) worker processes, next to raw BullMQ with as many
 * in-process workers. CPU per job is the bench's processes plus the Postgres backends of the row's
 * database (other databases' backends on a shared server left out); all Postgres processes also shown. Every setup first
 * runs BENCH_WARMUP_JOBS (default 2000) unmeasured jobs, so that the first measured row does not
 * pay alone for compiling the hot paths and preparing statements.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { enqueueJob } from '../src/app/queue-runtime/enqueue.js'
import { openDatabase, type DatabaseHandle } from '../src/adapters/storage/database.js'
import { migrateToLatest } from '../src/adapters/storage/migrations/index.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logging.js'
import { createQueueRuntime, createStorageCore, createWorkerRuntime } from '../src/composition/index.js'
import { createTestDatabase } from '../test/support/databases.js'
import { seedProject, seedRun } from '../test/support/fixtures.js'
import { deletePrefix, dbEnv } from '../test/support/queue-harness.js'
import {
  CONCURRENCY_PER_WORKER,
  countStatements,
  noopHandlers,
  backendSecondsSince,
  backendTicks,
  postgresCpuSeconds,
  processCpuSeconds,
} from './queue-shared.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 1000)
const REDIS_URL = process.env.TASKSGODZILLA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/11'
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number)
/** Which orchestrated setups to run (`redis,embedded` by default). */
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'redis,embedded').split(',') as Array<'redis' | 'embedded'>
const WORKER_PROCESSES = process.env.BENCH_WORKER_PROCESSES === '1'
const WARMUP_JOBS = Number(process.env.BENCH_WARMUP_JOBS ?? 2000)
/** Worker processes of the extra Redis row that runs each BullMQ worker as a process of its own; 0 skips it. */
const PROCESS_ROW_WORKERS = Number(process.env.BENCH_PROCESS_ROW ?? 4)

const statements = countStatements()
/**
 * How often the bench counts finished jobs. Each count is a statement over the jobs table whose
 * CPU the row's backends are charged with: every 20 ms, a row at 70 jobs/s ran 0.7 counts per job.
 */
const FINISH_POLL_MS = 100

// Dropping a finished run's database (WITH FORCE) can end a pooled connection the run had not yet
// returned; that connection's error must not end the whole benchmark.
process.on('uncaughtException', (error: Error & { code?: string }) => {
  if (error.code === '57P01') return
  throw error
})

/** A worker process (bench/queue-worker.ts) and its counters. */
interface WorkerProcess {
  counters(): Promise<{ statements: number; cpu: number }>
  stop(): Promise<void>
}

const startWorkerProcess = async (env: Record<string, string>): Promise<WorkerProcess> => {
  const child: ChildProcess = fork(fileURLToPath(new URL('queue-worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const next = () => new Promise<unknown>((resolve) => child.once('message', resolve))
  await next()
  return {
    async counters() {
      const answer = next()
      child.send({ type: 'count' })
      return (await answer) as { statements: number; cpu: number }
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send({ type: 'stop' })
      await exited
    },
  }
}

const rawBullmq = async (workers: number, count = JOBS): Promise<number> => {
  const prefix = `tgzbench-raw-${Date.now()}`
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('raw', { connection, prefix })
  let done = 0
  let resolveAll = (): void => undefined
  const finished = new Promise<void>((resolve) => (resolveAll = resolve))
  const consumers = Array.from(
    { length: workers },
    () =>
      new Worker(
        'raw',
        async () => {
          done += 1
          if (done === count) resolveAll()
        },
        {
          connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
          prefix,
          concurrency: CONCURRENCY_PER_WORKER,
        },
      ),
  )
  const start = performance.now()
  for (let i = 0; i < count; i += 100)
    await queue.addBulk(
      Array.from({ length: Math.min(100, count - i) }, () => ({
        name: 'noop',
        data: {},
        opts: { removeOnComplete: true },
      })),
    )
  await finished
  const seconds = (performance.now() - start) / 1000
  await Promise.all(consumers.map((consumer) => consumer.close()))
  await queue.close()
  connection.disconnect()
  await deletePrefix(prefix)
  return count / seconds
}

interface Result {
  readonly jobsPerSecond: number
  /** CPU milliseconds per job of the bench's own processes and of the Postgres server. */
  readonly benchCpuMs: number
  readonly postgresCpuMs: number
  /** The same, counting only the backends connected to this row's database. */
  readonly backendCpuMs: number
  /** Postgres statements per job between the first enqueue and the last finish, the bench's own polls excluded. */
  readonly statementsPerJob: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/** What a row runs on: the queue backend, its workers, and whether they are processes of their own. */
interface Setup {
  readonly backend: 'redis' | 'embedded'
  readonly workers: number
  readonly inProcesses?: boolean
  /** Unmeasured jobs run first through the same consumers (fresh worker processes compile their hot paths). */
  readonly warmupJobs?: number
}

type Runtime = ReturnType<typeof createQueueRuntime>

const enqueueSteps = async (
  api: Runtime,
  run: { readonly id: number; readonly projectId: number },
  steps: ReadonlyArray<{ readonly id: number }>,
  spacingMs: number,
): Promise<void> => {
  const batch = spacingMs > 0 ? 1 : 50
  for (let i = 0; i < steps.length; i += batch) {
    await api.uow.run(async (repos) => {
      for (const step of steps.slice(i, i + batch))
        await enqueueJob(
          repos.jobs,
          'execute_step_job',
          { step_run_id: step.id },
          {
            scope: { projectId: run.projectId, protocolRunId: run.id, stepRunId: step.id },
            origin: {},
            policy: { maxAttempts: 3 },
          },
        )
    })
    if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs))
  }
}

/**
 * Waits until no job of the row is left to run (every row is enqueued before); returns how many
 * polls it ran (excluded from statements per job). The poll is an index lookup of unended rows:
 * a count over the whole jobs table (dead versions included) cost the row's backends up to a
 * tenth of their CPU per job, charged to the queue.
 */
const waitFinished = async (database: DatabaseHandle): Promise<number> => {
  let polls = 0
  for (;;) {
    polls += 1
    // One lookup per status: each has a partial index of its own, none covers all three.
    const { rows } = await sql<{ pending: boolean }>`
      select exists (select 1 from jobs where status = 'queued')
        or exists (select 1 from jobs where status = 'started')
        or exists (select 1 from jobs where status = 'held') as pending`.execute(database.db)
    if (rows[0]?.pending !== true) return polls
    await new Promise((resolve) => setTimeout(resolve, FINISH_POLL_MS))
  }
}

const orchestrated = async (setup: Setup, count = JOBS, spacingMs = 0): Promise<Result> => {
  const { backend, workers } = setup
  const inProcesses = backend === 'redis' && (setup.inProcesses ?? WORKER_PROCESSES)
  const database = await createTestDatabase('postgres')
  const databaseName =
    database.target.dialect === 'postgres' ? new URL(database.target.url).pathname.slice(1) : ''
  const prefix = `tgzbench-${Date.now()}`
  const env = {
    ...dbEnv(database.target),
    TASKSGODZILLA_LOG_LEVEL: 'error',
    TASKSGODZILLA_DB_POOL_SIZE: '20',
    ...(backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL } : {}),
  }
  const config = loadConfig(env, process.cwd())
  const handle = openDatabase(database.target)
  await migrateToLatest(handle)
  const logger = createLogger(config)
  const parts = { config, logger, database: handle, ...createStorageCore(config, handle, logger) }
  const wiring = { makeHandlers: noopHandlers, tuning: { prefix, pollMs: 200 } }
  const api = createQueueRuntime(parts, { ...wiring, concurrency: workers * CONCURRENCY_PER_WORKER })
  const consumers =
    backend === 'redis' && !inProcesses
      ? Array.from({ length: workers }, () =>
          createWorkerRuntime(parts, { ...wiring, concurrency: CONCURRENCY_PER_WORKER }),
        )
      : []
  await api.queue.start()
  for (const consumer of consumers) await consumer.start()
  const processes = inProcesses
    ? await Promise.all(
        Array.from({ length: workers }, () => startWorkerProcess({ ...env, BENCH_PREFIX: prefix })),
      )
    : []
  const counters = async () => {
    const children = await Promise.all(processes.map((child) => child.counters()))
    return {
      statements: children.reduce((sum, child) => sum + child.statements, statements()),
      cpu: children.reduce((sum, child) => sum + child.cpu, processCpuSeconds()),
      postgres: postgresCpuSeconds(),
      backends: backendTicks(databaseName),
    }
  }
  const { run, steps } = await api.uow.run(async (repos) => {
    const project = await seedProject(repos)
    const run = await seedRun(repos, project.id, 'running')
    const steps = []
    for (let i = 0; i < count + (setup.warmupJobs ?? 0); i += 1)
      steps.push(
        await repos.steps.create({
          protocolRunId: run.id,
          stepIndex: i,
          stepName: `s${i}`,
          stepType: 'work',
          status: 'pending',
        }),
      )
    return { run, steps }
  })
  const warmup = steps.slice(0, setup.warmupJobs ?? 0)
  const measured = steps.slice(warmup.length)
  if (warmup.length > 0) {
    await enqueueSteps(api, run, warmup, 0)
    await waitFinished(handle)
  }
  const before = await counters()
  const start = performance.now()
  await enqueueSteps(api, run, measured, spacingMs)
  const polls = await waitFinished(handle)
  const seconds = (performance.now() - start) / 1000
  const after = await counters()
  const statementsPerJob = (after.statements - before.statements - polls) / count
  const measuredIds = new Set(measured.map((step) => step.id))
  const jobs = (await api.jobs.list({ status: 'finished', limit: steps.length })).filter((job) =>
    measuredIds.has(job.stepRunId ?? -1),
  )
  const latencies = jobs
    .map((job) => Date.parse(job.startedAt ?? job.createdAt) - Date.parse(job.createdAt))
    .sort((a, b) => a - b)
  for (const consumer of consumers) await consumer.stop(1_000)
  await Promise.all(processes.map((child) => child.stop()))
  await api.stop(1_000)
  await handle.close()
  await database.drop()
  if (backend === 'redis') await deletePrefix(prefix)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    jobsPerSecond: count / seconds,
    benchCpuMs: ((after.cpu - before.cpu) * 1000) / count,
    postgresCpuMs: ((after.postgres - before.postgres) * 1000) / count,
    backendCpuMs: (backendSecondsSince(before.backends, after.backends) * 1000) / count,
    statementsPerJob,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  }
}

const fmt = (n: number) => n.toFixed(0).padStart(6)
const loadAverage = (): string =>
  loadavg()
    .map((load) => load.toFixed(2))
    .join(', ')

const printRow = (name: string, workers: number, r: Result, raw: number): void => {
  const cpu = `${(r.benchCpuMs + r.backendCpuMs).toFixed(2)} (${r.benchCpuMs.toFixed(2)} + ${r.backendCpuMs.toFixed(2)}; all Postgres ${r.postgresCpuMs.toFixed(2)})`
  console.log(
    `${name.padEnd(34)}${String(workers).padStart(7)} ${fmt(r.jobsPerSecond)}   ${fmt(raw)}              ${(r.jobsPerSecond / raw).toFixed(2).padStart(5)}   ${fmt(r.p50Ms)}   ${fmt(r.p99Ms)}   ${r.statementsPerJob.toFixed(1).padStart(19)}   ${cpu.padStart(20)}`,
  )
}

const main = async (): Promise<void> => {
  console.log(
    `queue benchmark: ${JOBS} no-op jobs per row, ${CONCURRENCY_PER_WORKER} concurrent jobs per worker` +
      `, BullMQ workers ${WORKER_PROCESSES ? 'in processes of their own' : 'in this process'}; load average ${loadAverage()}`,
  )
  console.log(
    'setup                             workers   jobs/s   raw BullMQ jobs/s   ratio   p50 ms   p99 ms (under load)   PG statements/job   CPU ms/job (bench + its PG backends; all PG processes)',
  )
  if (WARMUP_JOBS > 0) {
    await rawBullmq(1, WARMUP_JOBS)
    for (const backend of BACKENDS) await orchestrated({ backend, workers: 1 }, WARMUP_JOBS)
  }
  for (const workers of WORKER_COUNTS) {
    const raw = await rawBullmq(workers)
    for (const backend of BACKENDS) {
      const r = await orchestrated({ backend, workers })
      printRow(backend === 'redis' ? 'Postgres + Redis (BullMQ)' : 'Postgres + embedded', workers, r, raw)
    }
  }
  if (PROCESS_ROW_WORKERS > 0 && BACKENDS.includes('redis')) {
    const workers = PROCESS_ROW_WORKERS
    const raw = await rawBullmq(workers)
    const r = await orchestrated({ backend: 'redis', workers, inProcesses: true, warmupJobs: WARMUP_JOBS })
    printRow('Postgres + Redis, worker processes', workers, r, raw)
  }
  console.log('\nidle enqueue-to-start latency (one job every 20 ms, 1 worker):')
  for (const backend of BACKENDS) {
    const r = await orchestrated({ backend, workers: 1 }, 200, 20)
    console.log(`  ${backend.padEnd(9)} p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`)
  }
  console.log(`load average at the end: ${loadAverage()}`)
}

await main()
process.exit(0)
