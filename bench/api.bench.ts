// npm run bench:api — API throughput and latency on SQLite and Postgres, as ratios to a bare route.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import pg from 'pg'
import { openDatabase } from '../src/adapters/storage/database.js'
import { migrateToLatest } from '../src/adapters/storage/migrations/index.js'
import type { DatabaseTarget } from '../src/config.js'
import { startProcess } from './processes.js'
import { BENCH_API_TOKEN, BENCH_PROJECT_TOKEN, seed, type SeedSize } from './seed.js'

const CONNECTIONS = 32
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const PG_URL = process.env.TASKSGODZILLA_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const LARGE: SeedSize = { projects: 1000, runsPerProject: 10, events: 1_000_000 }
// Same events per run (100) as LARGE, so the per-run listing returns as many rows in both.
const SMALL: SeedSize = { projects: 1, runsPerProject: 10, events: 1_000 }

interface Result {
  readonly label: string
  readonly rps: number
  readonly p50: number
  readonly p99: number
  /** Throughput of the bare route measured just before this one. */
  readonly bare: number
}

/**
 * Every request is authorized as a client would be: the bearer token, and the token of the
 * project it reaches (every tenth seeded project has one; the measured ids are among them).
 */
const AUTH_HEADERS = { authorization: `Bearer ${BENCH_API_TOKEN}`, 'x-project-token': BENCH_PROJECT_TOKEN }

const measure = async (
  label: string,
  url: string,
  options: Partial<autocannon.Options> = {},
): Promise<Result> => {
  const headers = { ...AUTH_HEADERS, ...options.headers }
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...options, headers })
  if (result.non2xx > 0) console.warn(`  ${label}: ${result.non2xx} non-2xx responses`)
  return { label, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bare: 0 }
}

/**
 * Measures the bare route, then the endpoint: the machine's load drifts during a run (other work
 * shares its cores), so each endpoint is compared with a baseline taken moments before it.
 */
const measureAgainstBare = async (
  label: string,
  url: string,
  options: Partial<autocannon.Options> = {},
): Promise<Result> => {
  const bare = await measure('bare Fastify route', BARE_URL)
  return { ...(await measure(label, url, options)), bare: bare.rps }
}

const createDatabase = async (dialect: 'sqlite' | 'postgres', size: SeedSize): Promise<DatabaseTarget> => {
  let target: DatabaseTarget
  if (dialect === 'sqlite') {
    target = { dialect, path: join(mkdtempSync(join(tmpdir(), 'tgz-bench-')), 'bench.sqlite') }
  } else {
    const name = `tgz_bench_${Date.now()}`
    await pgAdmin(`create database ${name}`)
    created.push(name)
    const url = new URL(PG_URL)
    url.pathname = `/${name}`
    target = { dialect, url: url.toString(), poolSize: 10 }
  }
  const handle = openDatabase(target)
  await migrateToLatest(handle)
  const started = Date.now()
  await seed(handle.db, dialect, size)
  console.log(
    `  seeded ${dialect} with ${size.events.toLocaleString()} events in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  await handle.close()
  return target
}

/** Postgres databases this run created, dropped at the end. */
const created: string[] = []

const pgAdmin = async (statement: string): Promise<void> => {
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(statement)
  } finally {
    await admin.end()
  }
}

const envFor = (target: DatabaseTarget): Record<string, string> =>
  target.dialect === 'sqlite'
    ? { TASKSGODZILLA_DB_PATH: target.path }
    : { TASKSGODZILLA_DB_URL: target.url, TASKSGODZILLA_DB_POOL_SIZE: '10' }

const startApi = (target: DatabaseTarget, port: number) =>
  startProcess(
    ['src/faces/cli/main.ts', 'serve', '--port', String(port)],
    { ...envFor(target), TASKSGODZILLA_LOG_LEVEL: 'warn', TASKSGODZILLA_API_TOKEN: BENCH_API_TOKEN },
    `http://127.0.0.1:${port}`,
    '/health',
  )

const benchDialect = async (dialect: 'sqlite' | 'postgres', port: number): Promise<Result[]> => {
  const api = await startApi(await createDatabase(dialect, LARGE), port)
  let counter = 0
  try {
    const results = [
      await measureAgainstBare('GET /health', `${api.url}/health`),
      await measureAgainstBare('GET /projects/{id}/protocols', `${api.url}/projects/500/protocols`),
      await measureAgainstBare(
        'GET /protocols/{id}/events?limit=100',
        `${api.url}/protocols/5000/events?limit=100`,
      ),
      await measureAgainstBare('GET /events?limit=50', `${api.url}/events?limit=50`),
      await measureAgainstBare('POST /protocols/{id}/steps', `${api.url}/protocols/7000/steps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ step_index: 0, step_name: `s-${counter++}`, step_type: 'work' }),
            }),
          },
        ],
      }),
    ]
    print(`${dialect}, ${LARGE.events.toLocaleString()} events`, results)
    return results
  } finally {
    api.stop()
  }
}

const eventsScaling = async (
  dialect: 'sqlite' | 'postgres',
  large: Result[],
  port: number,
): Promise<void> => {
  const api = await startApi(await createDatabase(dialect, SMALL), port)
  try {
    const small = [
      await measureAgainstBare(
        'GET /protocols/{id}/events?limit=100',
        `${api.url}/protocols/5/events?limit=100`,
      ),
      await measureAgainstBare('GET /events?limit=50', `${api.url}/events?limit=50`),
    ]
    // Compared as ratios to their own bare baselines, so load drift between the two runs cancels.
    for (const s of small) {
      const l = large.find((r) => r.label === s.label)!
      const [smallRatio, largeRatio] = [s.rps / s.bare, l.rps / l.bare]
      console.log(
        `  ${dialect} ${s.label}: ratio to bare with 1k events ${smallRatio.toFixed(2)}, with 1M events ${largeRatio.toFixed(2)} → 1M/1k = ${(largeRatio / smallRatio).toFixed(2)}`,
      )
    }
  } finally {
    api.stop()
  }
}

const print = (title: string, results: Result[]): void => {
  console.log(`\n${title} (ratio = throughput / bare Fastify route measured just before)`)
  for (const r of results) {
    console.log(
      `  ${r.label.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s  bare ${r.bare.toFixed(0).padStart(6)} req/s  ratio ${(r.rps / r.bare).toFixed(2)}  p50 ${r.p50} ms  p99 ${r.p99} ms`,
    )
  }
}

const BARE_PORT = 18100
const BARE_URL = `http://127.0.0.1:${BARE_PORT}/bare`
const bareServer = await startProcess(
  ['bench/bare-server.ts', String(BARE_PORT)],
  {},
  `http://127.0.0.1:${BARE_PORT}`,
  '/bare',
)
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
try {
  for (const [i, dialect] of dialects.entries()) {
    const large = await benchDialect(dialect, 18110 + i * 2)
    console.log(`\nEvent listing vs table size (${dialect}):`)
    await eventsScaling(dialect, large, 18111 + i * 2)
  }
} finally {
  bareServer.stop()
  for (const name of created) await pgAdmin(`drop database if exists ${name} with (force)`)
}
