// npm run bench:api — API throughput and latency on SQLite and Postgres, as ratios to a bare route.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

/** A request the load generator sends; `stepBodies` makes each a new step of a run. */
interface Load {
  readonly method?: 'GET' | 'POST'
  readonly stepBodies?: boolean
}

const hasWrk = ((): boolean => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
})()

/**
 * wrk when installed (a C client: it leaves more of the machine's two cores to the server, and
 * costs the same for every route), else autocannon. Both at CONNECTIONS connections.
 */
const measure = async (label: string, url: string, load: Load = {}): Promise<Result> => {
  const result = hasWrk ? runWrk(url, load) : await runAutocannon(url, load)
  if (result.non2xx > 0) console.warn(`  ${label}: ${result.non2xx} non-2xx responses`)
  return { label, rps: result.rps, p50: result.p50, p99: result.p99, bare: 0 }
}

interface Measured {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
}

let stepCounter = 0
const stepBody = (): string =>
  JSON.stringify({ step_index: 0, step_name: `s-${stepCounter++}`, step_type: 'work' })

const runAutocannon = async (url: string, load: Load): Promise<Measured> => {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: load.method ?? 'GET',
    headers: { ...AUTH_HEADERS, ...(load.stepBodies ? { 'content-type': 'application/json' } : {}) },
    ...(load.stepBodies
      ? { requests: [{ setupRequest: (request) => ({ ...request, body: stepBody() }) }] }
      : {}),
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  }
}

/** Each POST names a new step, as the autocannon variant does. */
const WRK_STEP_SCRIPT = `
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, nil, '{"step_index":0,"step_name":"s-' .. counter .. '","step_type":"work"}')
end
`

const WRK_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

/** A wrk latency percentile in ms; NaN when wrk printed none (no response came back). */
const wrkPercentileMs = (out: string, percentile: string): number => {
  const match = new RegExp(`${percentile}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out)
  return match ? Number(match[1]) * WRK_UNIT_MS[match[2]!]! : Number.NaN
}

const runWrk = (url: string, load: Load): Measured => {
  const headers = Object.entries({
    ...AUTH_HEADERS,
    ...(load.stepBodies ? { 'content-type': 'application/json' } : {}),
  }).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  const script = load.stepBodies ? ['-s', writeWrkScript()] : []
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...headers, ...script, url]
  const out = execFileSync('wrk', args, { encoding: 'utf8' })
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    p50: wrkPercentileMs(out, '50'),
    p99: wrkPercentileMs(out, '99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  }
}

/** Written once per bench run, in a folder removed with the bench's other files. */
let wrkScript: string | undefined
const writeWrkScript = (): string => {
  if (wrkScript !== undefined) return wrkScript
  const dir = mkdtempSync(join(tmpdir(), 'tgz-wrk-'))
  tempDirs.push(dir)
  wrkScript = join(dir, 'steps.lua')
  writeFileSync(wrkScript, WRK_STEP_SCRIPT)
  return wrkScript
}

/**
 * Measures the bare route, then the endpoint: the machine's load drifts during a run (other work
 * shares its cores), so each endpoint is compared with a baseline taken moments before it.
 */
const measureAgainstBare = async (label: string, url: string, load: Load = {}): Promise<Result> => {
  const bare = await measure('bare Fastify route', BARE_URL)
  return { ...(await measure(label, url, load)), bare: bare.rps }
}

const createDatabase = async (dialect: 'sqlite' | 'postgres', size: SeedSize): Promise<DatabaseTarget> => {
  let target: DatabaseTarget
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tgz-bench-'))
    tempDirs.push(dir)
    target = { dialect, path: join(dir, 'bench.sqlite') }
  } else {
    const name = `tgz_bench_${Date.now()}`
    await pgAdmin(`create database ${name}`)
    created.push(name)
    const url = new URL(PG_URL)
    url.pathname = `/${name}`
    target = { dialect, url: url.toString(), poolSize: 10, preparedStatements: true }
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

/** Postgres databases and temporary folders (SQLite files, the wrk script) this run created, removed at the end. */
const created: string[] = []
const tempDirs: string[] = []

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

const startApi = (target: DatabaseTarget, port: number, extraEnv: Record<string, string> = {}) =>
  startProcess(
    ['src/faces/cli/main.ts', 'serve', '--port', String(port)],
    {
      ...envFor(target),
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      TASKSGODZILLA_API_TOKEN: BENCH_API_TOKEN,
      ...extraEnv,
    },
    `http://127.0.0.1:${port}`,
    '/health',
  )

const listings = async (url: string): Promise<Result[]> => [
  await measureAgainstBare('GET /projects/{id}/protocols', `${url}/projects/500/protocols`),
  await measureAgainstBare('GET /protocols/{id}/events?limit=100', `${url}/protocols/5000/events?limit=100`),
  await measureAgainstBare('GET /events?limit=50', `${url}/events?limit=50`),
]

const benchDialect = async (dialect: 'sqlite' | 'postgres', port: number): Promise<DatabaseTarget> => {
  const target = await createDatabase(dialect, LARGE)
  const api = await startApi(target, port)
  try {
    print(`${dialect}, ${LARGE.events.toLocaleString()} events`, [
      await measureAgainstBare('GET /health', `${api.url}/health`),
      ...(await listings(api.url)),
      await measureAgainstBare('POST /protocols/{id}/steps', `${api.url}/protocols/7000/steps`, {
        method: 'POST',
        stepBodies: true,
      }),
    ])
  } finally {
    api.stop()
  }
  // The same reads with nothing served from memory: what a read costs right after a write.
  const computing = await startApi(target, port + 100, COMPUTED)
  try {
    print(`${dialect}, every read computed (TASKSGODZILLA_READ_CACHE_MB=0)`, await listings(computing.url))
  } finally {
    computing.stop()
  }
  return target
}

const COMPUTED = { TASKSGODZILLA_READ_CACHE_MB: '0' }
const SCALING_ROUNDS = 4

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = sorted.length / 2
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!
}

/**
 * The event listings on the 1M-event database and on a 1k one, both servers up at once and
 * measured alternately (large, small, large, ...), compared by their median throughput: the
 * machine's drift hits both sides alike. Once as served (kept bodies), once with every read computed.
 */
const eventsScaling = async (
  dialect: 'sqlite' | 'postgres',
  largeTarget: DatabaseTarget,
  port: number,
): Promise<void> => {
  const smallTarget = await createDatabase(dialect, SMALL)
  const endpoints = [
    {
      label: 'GET /protocols/{id}/events?limit=100',
      large: '/protocols/5000/events?limit=100',
      small: '/protocols/5/events?limit=100',
    },
    { label: 'GET /events?limit=50', large: '/events?limit=50', small: '/events?limit=50' },
  ]
  const modes = [
    ['served', {}],
    ['computed', COMPUTED],
  ] as const
  for (const [i, [mode, env]] of modes.entries()) {
    // Fresh ports: a stopped server may still hold its port for a moment.
    const large = await startApi(largeTarget, port + 2 * i, env)
    const small = await startApi(smallTarget, port + 2 * i + 1, env)
    try {
      for (const endpoint of endpoints) {
        const sides = { large: [] as number[], small: [] as number[] }
        const measureSide = async (side: 'large' | 'small') => {
          const url = `${side === 'large' ? large.url : small.url}${endpoint[side]}`
          sides[side].push((await measure(endpoint.label, url)).rps)
        }
        // Which side goes first alternates too: going first was worth up to ~20 % in early runs.
        for (let round = 0; round < SCALING_ROUNDS; round++) {
          const order = round % 2 === 0 ? (['large', 'small'] as const) : (['small', 'large'] as const)
          for (const side of order) await measureSide(side)
        }
        const [l, m] = [median(sides.large), median(sides.small)]
        console.log(
          `  ${dialect} ${mode.padEnd(8)} ${endpoint.label.padEnd(38)} 1k events ${m.toFixed(0).padStart(6)} req/s, 1M events ${l.toFixed(0).padStart(6)} req/s → 1M/1k = ${(l / m).toFixed(2)}`,
        )
      }
    } finally {
      large.stop()
      small.stop()
    }
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
console.log(`load generator: ${hasWrk ? 'wrk' : 'autocannon (install wrk for a client that costs less CPU)'}`)
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
try {
  for (const [i, dialect] of dialects.entries()) {
    const large = await benchDialect(dialect, 18110 + i * 10)
    console.log(
      `\nEvent listing vs table size (${dialect}; medians of ${SCALING_ROUNDS} alternating rounds, req/s):`,
    )
    await eventsScaling(dialect, large, 18115 + i * 10)
  }
} finally {
  bareServer.stop()
  for (const name of created) await pgAdmin(`drop database if exists ${name} with (force)`)
  // A 1M-event SQLite file is ~200 MB; the API processes holding it have been told to stop.
  await new Promise((resolve) => setTimeout(resolve, 500))
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}
