/** What the HTTP benches (bench/api.bench.ts, bench/mixed.bench.ts) share: the load generator, databases, the API process. */
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

export const CONNECTIONS = 32
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
export const PG_URL = process.env.TASKSGODZILLA_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

/**
 * Every request is authorized as a client would be: the bearer token, and the token of the
 * project it reaches (every tenth seeded project has one; the measured ids are among them).
 */
export const AUTH_HEADERS = {
  authorization: `Bearer ${BENCH_API_TOKEN}`,
  'x-project-token': BENCH_PROJECT_TOKEN,
}

/** A request the load generator sends; `stepBodies` makes each a new step of a run. */
export interface Load {
  readonly method?: 'GET' | 'POST'
  readonly stepBodies?: boolean
  /** A wrk Lua script choosing each request (wrk only); the URL then gives only the host. */
  readonly wrkScript?: string
}

export interface Measured {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly non2xx: number
}

export const hasWrk = ((): boolean => {
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
export const measureLoad = async (label: string, url: string, load: Load = {}): Promise<Measured> => {
  if (load.wrkScript !== undefined && !hasWrk) throw new Error(`${label} needs wrk (apt-get install -y wrk)`)
  const result = hasWrk ? runWrk(url, load) : await runAutocannon(url, load)
  if (result.non2xx > 0) console.warn(`  ${label}: ${result.non2xx} non-2xx responses`)
  return result
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
  const scriptPath = load.wrkScript ?? (load.stepBodies ? tempFile('steps.lua', WRK_STEP_SCRIPT) : undefined)
  const script = scriptPath === undefined ? [] : ['-s', scriptPath]
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...headers, ...script, url]
  const out = execFileSync('wrk', args, { encoding: 'utf8' })
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    p50: wrkPercentileMs(out, '50'),
    p99: wrkPercentileMs(out, '99'),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  }
}

/** Postgres databases and temporary folders (SQLite files, wrk scripts) this run created, removed by `cleanUp`. */
const created: string[] = []
const tempDirs: string[] = []
const tempFiles = new Map<string, string>()

/** Writes `text` once per bench run, in a folder removed with the bench's other files. */
export const tempFile = (name: string, text: string): string => {
  const known = tempFiles.get(name)
  if (known !== undefined) return known
  const dir = mkdtempSync(join(tmpdir(), 'tgz-wrk-'))
  tempDirs.push(dir)
  const path = join(dir, name)
  writeFileSync(path, text)
  tempFiles.set(name, path)
  return path
}

const pgAdmin = async (statement: string): Promise<void> => {
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(statement)
  } finally {
    await admin.end()
  }
}

/** A new, migrated, seeded database; `extra` adds rows after the seed. */
export const createDatabase = async (
  dialect: 'sqlite' | 'postgres',
  size: SeedSize,
  extra?: (handle: ReturnType<typeof openDatabase>) => Promise<void>,
): Promise<DatabaseTarget> => {
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
  if (extra) await extra(handle)
  console.log(
    `  seeded ${dialect} with ${size.events.toLocaleString()} events in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  await handle.close()
  return target
}

/** Drops the Postgres databases and removes the folders this run created. */
export const cleanUp = async (): Promise<void> => {
  for (const name of created) await pgAdmin(`drop database if exists ${name} with (force)`)
  // A 1M-event SQLite file is ~200 MB; the API processes holding it have been told to stop.
  await new Promise((resolve) => setTimeout(resolve, 500))
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}

export const envFor = (target: DatabaseTarget): Record<string, string> =>
  target.dialect === 'sqlite'
    ? { TASKSGODZILLA_DB_PATH: target.path }
    : { TASKSGODZILLA_DB_URL: target.url, TASKSGODZILLA_DB_POOL_SIZE: '10' }

/** `serve` as its own process, as deployed (log level warn, API token set); `args` adds options (`--no-jobs`). */
export const startApi = (
  target: DatabaseTarget,
  port: number,
  extraEnv: Record<string, string> = {},
  args: readonly string[] = [],
  /** Another checkout to serve from (bench/read-ab.ts); this one by default. */
  cwd?: string,
) =>
  startProcess(
    ['src/faces/cli/main.ts', 'serve', '--port', String(port), ...args],
    {
      ...envFor(target),
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      TASKSGODZILLA_API_TOKEN: BENCH_API_TOKEN,
      ...extraEnv,
    },
    `http://127.0.0.1:${port}`,
    '/health',
    cwd,
  )

/** The bare Fastify route, its own process like the API: the baseline every ratio divides by. */
export const startBare = async (port: number) => {
  const server = await startProcess(
    ['bench/bare-server.ts', String(port)],
    {},
    `http://127.0.0.1:${port}`,
    '/bare',
  )
  return { ...server, url: `${server.url}/bare` }
}
