// npm run bench:api — API throughput and latency on SQLite and Postgres, as ratios to a bare route.
import type { DatabaseTarget } from '../src/config.js'
import { cleanUp, createDatabase, hasWrk, measureLoad, startApi, startBare, type Load } from './load.js'
import type { SeedSize } from './seed.js'
import { addPendingSteps, writeEndpoints } from './writes.js'

const LARGE: SeedSize = { projects: 1000, runsPerProject: 10, events: 1_000_000 }
// The same projects (a tenth token-protected) and runs as LARGE, so the two differ in the events
// table only: 100 events in each run of projects 499 (open) and 500 (protected), whose run 5000 is
// the one measured, as in LARGE.
const SMALL: SeedSize = {
  projects: 1000,
  runsPerProject: 10,
  events: 2_000,
  eventRuns: { first: 4981, count: 20 },
}

interface Result {
  readonly label: string
  readonly rps: number
  readonly p50: number
  readonly p99: number
  /** Throughput of the bare route measured just before this one. */
  readonly bare: number
}

const measure = async (label: string, url: string, load: Load = {}): Promise<Result> => {
  const result = await measureLoad(label, url, load)
  return { label, rps: result.rps, p50: result.p50, p99: result.p99, bare: 0 }
}

/**
 * Measures the bare route, then the endpoint: the machine's load drifts during a run (other work
 * shares its cores), so each endpoint is compared with a baseline taken moments before it.
 */
const measureAgainstBare = async (label: string, url: string, load: Load = {}): Promise<Result> => {
  const bare = await measure('bare Fastify route', BARE_URL)
  return { ...(await measure(label, url, load)), bare: bare.rps }
}

const listings = async (url: string): Promise<Result[]> => [
  await measureAgainstBare('GET /projects/{id}/protocols', `${url}/projects/500/protocols`),
  await measureAgainstBare('GET /protocols/{id}/events?limit=100', `${url}/protocols/5000/events?limit=100`),
  await measureAgainstBare('GET /events?limit=50', `${url}/events?limit=50`),
]

/**
 * `BENCH_ONLY=writes`: only the write endpoints (on the same seeded database), for quick rounds;
 * `BENCH_ONLY=scaling`: only the event listings on the 1M- against the 2k-event database.
 */
const WRITES_ONLY = process.env.BENCH_ONLY === 'writes'
const SCALING_ONLY = process.env.BENCH_ONLY === 'scaling'

/**
 * The write endpoints against a server that runs no jobs (`serve --no-jobs`, as deployed with
 * separate workers): the enqueued executions would otherwise run in the measured process, and the
 * figure is the endpoint's.
 */
const writes = async (target: DatabaseTarget, port: number, dialect: string): Promise<void> => {
  const api = await startApi(target, port, {}, ['--no-jobs'])
  try {
    // /health's database check is reused for 1 s; /health/live checks nothing: the gap is the check.
    const results: Result[] = [
      await measureAgainstBare('GET /health', `${api.url}/health`),
      await measureAgainstBare('GET /health/live', `${api.url}/health/live`),
    ]
    for (const endpoint of writeEndpoints(LARGE.projects * LARGE.runsPerProject))
      results.push(await measureAgainstBare(endpoint.label, `${api.url}${endpoint.path}`, endpoint.load))
    print(`${dialect}, write endpoints (serve --no-jobs)`, results)
  } finally {
    api.stop()
  }
}

const benchDialect = async (dialect: 'sqlite' | 'postgres', port: number): Promise<DatabaseTarget> => {
  const target = await createDatabase(dialect, LARGE, addPendingSteps)
  if (SCALING_ONLY) return target
  await writes(target, port + 200, dialect)
  if (WRITES_ONLY) return target
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
 * The event listings on the 1M-event database and on a 2k one, both servers up at once and
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
      small: '/protocols/5000/events?limit=100',
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
          `  ${dialect} ${mode.padEnd(8)} ${endpoint.label.padEnd(38)} 2k events ${m.toFixed(0).padStart(6)} req/s, 1M events ${l.toFixed(0).padStart(6)} req/s → 1M/2k = ${(l / m).toFixed(2)}`,
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

/** `BENCH_PORT_BASE` (default 18100): the ports used are base … base + 330, apart from another bench's. */
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 18100)
const bareServer = await startBare(PORT_BASE)
const BARE_URL = bareServer.url
console.log(`load generator: ${hasWrk ? 'wrk' : 'autocannon (install wrk for a client that costs less CPU)'}`)
const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
try {
  for (const [i, dialect] of dialects.entries()) {
    const large = await benchDialect(dialect, PORT_BASE + 10 + i * 10)
    if (WRITES_ONLY) continue
    console.log(
      `\nEvent listing vs table size (${dialect}; medians of ${SCALING_ROUNDS} alternating rounds, req/s):`,
    )
    await eventsScaling(dialect, large, PORT_BASE + 15 + i * 10)
  }
} finally {
  bareServer.stop()
  await cleanUp()
}
