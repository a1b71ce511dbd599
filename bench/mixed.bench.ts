// npm run bench:mixed — a realistic read mix while background writers commit events, as ratios to a bare route.
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { sql, type Kysely } from 'kysely'
import type { Database } from '../src/adapters/storage/schema.js'
import type { DatabaseTarget } from '../src/config.js'
import {
  AUTH_HEADERS,
  CONNECTIONS,
  cleanUp,
  createDatabase,
  envFor,
  measureLoad,
  startApi,
  startBare,
  tempFile,
  type Measured,
} from './load.js'
import { cpuMsOf } from './processes.js'
import type { SeedSize } from './seed.js'

const SIZE: SeedSize = { projects: 10, runsPerProject: 10, events: 100_000 }
const WRITES_PER_SECOND = Number(process.env.BENCH_WRITES_PER_SECOND ?? 200)
const WRITE_RUNS = 20
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
/**
 * Live event streams held open during the mix, each on one of the runs the writers leave alone
 * (console tabs watching other runs): `BENCH_STREAMS` (default 0). `BENCH_STREAMS_ON=all` opens
 * them unscoped instead (dashboards: every event concerns them).
 */
const STREAMS = Number(process.env.BENCH_STREAMS ?? 0)
const UNSCOPED_STREAMS = process.env.BENCH_STREAMS_ON === 'all'
/**
 * `BENCH_REDIS_URL`: the API and the writers both use this Redis (queue and live signal), so the
 * writers' commits wake the API's streams on SQLite too; without it they do so on Postgres only
 * (LISTEN/NOTIFY).
 */
const REDIS_ENV: Record<string, string> = process.env.BENCH_REDIS_URL
  ? { TASKSGODZILLA_REDIS_URL: process.env.BENCH_REDIS_URL }
  : {}

/**
 * Each request one of five reads a console or agent makes, equally often, of a random run among
 * the 100 (and its project): run list, run detail, steps, last 100 events, global feed.
 */
const mixScript = (only?: number): string => `
math.randomseed(os.time())
request = function()
  local run = math.random(1, ${SIZE.projects * SIZE.runsPerProject})
  local project = math.floor((run - 1) / ${SIZE.runsPerProject}) + 1
  local kind = ${only ?? 'math.random(1, 5)'}
  local path
  if kind == 1 then path = "/projects/" .. project .. "/protocols"
  elseif kind == 2 then path = "/protocols/" .. run
  elseif kind == 3 then path = "/protocols/" .. run .. "/steps"
  elseif kind == 4 then path = "/protocols/" .. run .. "/events?limit=100"
  else path = "/events?limit=50" end
  return wrk.format("GET", path)
end
`

/** Five planned steps per run, so the steps listing has rows like a real run's. */
const addSteps = async ({ db }: { db: Kysely<Database> }) => {
  const ts = `'2026-11-25T00:00:00.000Z'`
  for (let index = 0; index < 5; index++)
    await sql`insert into step_runs (protocol_run_id, step_index, step_name, step_type, status, created_at, updated_at)
      select id, ${sql.raw(String(index))}, ${`0${index + 1}-work-item`}, 'work', 'pending', ${sql.raw(ts)}, ${sql.raw(ts)}
      from protocol_runs`.execute(db)
}

/** The background writers: their own process, reporting "<ms> <committed>" lines. */
const startWriter = (target: DatabaseTarget) => {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/mixed-writer.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      ...envFor(target),
      ...REDIS_ENV,
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      BENCH_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
      BENCH_WRITE_RUNS: String(WRITE_RUNS),
      BENCH_RUNS_PER_PROJECT: String(SIZE.runsPerProject),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let last = { at: Date.now(), committed: 0 }
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const line = chunk.trim().split('\n').at(-1)!.split(' ')
    last = { at: Number(line[0]), committed: Number(line[1]) }
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return {
    progress: () => last,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Memo lookups so far, read from the server's own /metrics. */
const memoLookups = async (url: string): Promise<{ hit: number; miss: number }> => {
  const text = await (await fetch(`${url}/metrics`, { headers: AUTH_HEADERS })).text()
  const count = (result: string) =>
    Number(new RegExp(`read_memo_lookups_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0)
  return { hit: count('hit'), miss: count('miss') }
}

/** Opens `count` live event streams, each on a run the writers do not write; they are read and discarded. */
const openStreams = async (api: string, count: number): Promise<() => void> => {
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  const { port } = new URL(api)
  const quiet = SIZE.projects * SIZE.runsPerProject - WRITE_RUNS
  const open = (i: number) =>
    new Promise<http.ClientRequest>((resolve, reject) => {
      const path = UNSCOPED_STREAMS
        ? '/events/stream'
        : `/events/stream?protocol_run_id=${WRITE_RUNS + 1 + (i % quiet)}`
      const request = http.get({ host: '127.0.0.1', port, path, headers: AUTH_HEADERS, agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`))
        res.resume()
        resolve(request)
      })
      request.on('error', reject)
    })
  const requests = await Promise.all(Array.from({ length: count }, (_, i) => open(i)))
  return () => {
    for (const request of requests) request.destroy()
    agent.destroy()
  }
}

interface Row {
  readonly mixed: Measured
  /** CPU the API process used per second of the mix, in ms (1,000 = one core busy). */
  readonly apiCpuPerSecond: number
  readonly bare: number
  readonly writesPerSecond: number
  readonly hitRate: number
}

/** One round: bare, the mix under writes, bare again; the ratio divides by the mean of both bares. */
const round = async (
  api: { url: string; pid: number },
  bare: string,
  writer: ReturnType<typeof startWriter>,
): Promise<Row> => {
  const before = await measureLoad('bare', bare)
  const [memo0, writes0, cpu0, at0] = [
    await memoLookups(api.url),
    writer.progress(),
    cpuMsOf(api.pid),
    Date.now(),
  ]
  const mixed = await measureLoad('mixed reads', api.url, { wrkScript: tempFile('mix.lua', mixScript()) })
  const [cpu1, at1] = [cpuMsOf(api.pid), Date.now()]
  const [memo1, writes1] = [await memoLookups(api.url), writer.progress()]
  const after = await measureLoad('bare', bare)
  const lookups = memo1.hit + memo1.miss - memo0.hit - memo0.miss
  return {
    mixed,
    apiCpuPerSecond: ((cpu1 - cpu0) * 1000) / (at1 - at0),
    bare: (before.rps + after.rps) / 2,
    writesPerSecond: ((writes1.committed - writes0.committed) * 1000) / Math.max(1, writes1.at - writes0.at),
    hitRate: lookups === 0 ? Number.NaN : (memo1.hit - memo0.hit) / lookups,
  }
}

const ALL_MODES = [
  ['memo on', {}],
  ['memo off (TASKSGODZILLA_READ_CACHE_MB=0)', { TASKSGODZILLA_READ_CACHE_MB: '0' }],
] as const
/** `BENCH_MEMO=on` or `off` runs one mode only; each read alone runs after memo off. */
const MODES = ALL_MODES.filter(
  ([mode]) => !process.env.BENCH_MEMO || mode.startsWith(`memo ${process.env.BENCH_MEMO}`),
)

const benchDialect = async (dialect: 'sqlite' | 'postgres', bare: string, port: number): Promise<void> => {
  const target = await createDatabase(dialect, SIZE, addSteps)
  const writer = startWriter(target)
  try {
    console.log(
      `\n${dialect}: ${CONNECTIONS} connections, mix over 100 runs; writers ${WRITES_PER_SECOND} events/s over ${WRITE_RUNS} runs; ${STREAMS} live streams ${UNSCOPED_STREAMS ? 'unscoped' : 'on other runs'}${REDIS_ENV.TASKSGODZILLA_REDIS_URL ? '; Redis signal' : ''}`,
    )
    for (const [i, [mode, env]] of MODES.entries()) {
      const api = await startApi(target, port + i, {
        ...env,
        ...REDIS_ENV,
        TASKSGODZILLA_MAX_STREAMS_PER_TOKEN: '100000',
      })
      const closeStreams = await openStreams(api.url, STREAMS)
      try {
        for (let r = 0; r < ROUNDS; r++) print(mode, await round(api, bare, writer))
        if (mode.startsWith('memo off')) await eachReadAlone(api.url)
      } finally {
        closeStreams()
        api.stop()
      }
    }
  } finally {
    await writer.stop()
  }
}

const READS = ['run list', 'run detail', 'steps', 'last 100 events of a run', 'global feed (50)']

/** Where the mix's time goes: each read of the mix alone, computed, under the same writes. */
const eachReadAlone = async (api: string): Promise<void> => {
  for (const [i, read] of READS.entries()) {
    const alone = await measureLoad(read, api, { wrkScript: tempFile(`read-${i}.lua`, mixScript(i + 1)) })
    console.log(
      `    alone: ${read.padEnd(28)} ${alone.rps.toFixed(0).padStart(6)} req/s  p50 ${alone.p50} ms  p99 ${alone.p99} ms`,
    )
  }
}

const print = (mode: string, row: Row): void =>
  console.log(
    `  ${mode.padEnd(40)} ${row.mixed.rps.toFixed(0).padStart(6)} req/s  bare ${row.bare.toFixed(0).padStart(6)}  ratio ${(row.mixed.rps / row.bare).toFixed(2)}  p50 ${row.mixed.p50} ms  p99 ${row.mixed.p99} ms  writes ${row.writesPerSecond.toFixed(0)}/s  memo hits ${Number.isNaN(row.hitRate) ? 'none (off)' : `${(row.hitRate * 100).toFixed(0)} %`}  API CPU ${row.apiCpuPerSecond.toFixed(0)} ms/s`,
  )

const bare = await startBare(18200)
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
try {
  for (const [i, dialect] of dialects.entries()) await benchDialect(dialect, bare.url, 18210 + i * 10)
} finally {
  bare.stop()
  await cleanUp()
}
