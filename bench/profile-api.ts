// node --import tsx bench/profile-api.ts — per-request cost of API reads in one process (no
// network, no autocannon): seeds a small SQLite database as bench:api does, boots the server
// through startServer (as `serve` does) and fires sequential `inject` requests, printing wall and
// CPU time per request beside a bare Fastify route. Less sensitive to a shared machine's load than
// bench:api. PROFILE_OUT=x.cpuprofile records where the time goes (read it with
// bench/cpu-profile-top.ts); PROFILE_ONLY=<part of a label> and PROFILE_REQUESTS narrow the run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Session } from 'node:inspector/promises'
import Fastify from 'fastify'
import { openDatabase } from '../src/adapters/storage/database.js'
import { migrateToLatest } from '../src/adapters/storage/migrations/index.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logging.js'
import { startServer } from '../src/composition/index.js'
import { BENCH_API_TOKEN, BENCH_PROJECT_TOKEN, seed } from './seed.js'
import { addPendingSteps } from './writes.js'

const ONLY = process.env.PROFILE_ONLY
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 3000)
/** Unmeasured requests of each series, after its first. */
const WARM_UP = 200
const SEED = { projects: 100, runsPerProject: 10, events: 100_000 }
const RUNS = SEED.projects * SEED.runsPerProject
/** Measured starts per series: half the runs each, less the first request and the warm-up. */
const STARTS = Math.min(REQUESTS, RUNS / 2 - 1 - WARM_UP)
const dir = mkdtempSync(join(tmpdir(), 'tgz-profile-'))
const path = join(dir, 'profile.sqlite')
const handle = openDatabase({ dialect: 'sqlite', path })
await migrateToLatest(handle)
await seed(handle.db, 'sqlite', SEED)
await addPendingSteps(handle)
await handle.close()

const env = {
  TASKSGODZILLA_DB_PATH: path,
  TASKSGODZILLA_LOG_LEVEL: 'warn',
  // TASKSGODZILLA_READ_CACHE_MB=0 profiles the computed reads instead of the memo's answers.
  ...(process.env.TASKSGODZILLA_READ_CACHE_MB === undefined
    ? {}
    : { TASKSGODZILLA_READ_CACHE_MB: process.env.TASKSGODZILLA_READ_CACHE_MB }),
  TASKSGODZILLA_API_TOKEN: BENCH_API_TOKEN,
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
}
const config = loadConfig(env, process.cwd())
const running = await startServer(config, createLogger(config), { port: 0, runJobs: false })
const headers = { authorization: `Bearer ${BENCH_API_TOKEN}`, 'x-project-token': BENCH_PROJECT_TOKEN }

// The baseline, as in bench:api: a bare Fastify route doing no work, injected the same way.
const bare = Fastify({ logger: false })
bare.get('/bare', async () => ({ status: 'ok' }))

/** A request to send: a GET of `url`, or the i-th of a series of writes. */
type Request = string | ((i: number) => { method: 'POST'; url: string; payload: object })

/**
 * Sends `request` once, WARM_UP times, then `requests` times measured. Every answer must be a
 * 200: a series that ran out of subjects (a busy run answers 409) would time its refusals.
 */
const time = async (
  label: string,
  request: Request,
  server = running.server,
  requests = REQUESTS,
): Promise<void> => {
  if (ONLY !== undefined && !label.includes(ONLY)) return
  let n = 0
  const send = async () => {
    const response = await server.inject(
      typeof request === 'string' ? { url: request, headers } : { ...request(n++), headers },
    )
    if (response.statusCode !== 200) throw new Error(`${label}: ${response.statusCode} ${response.body}`)
  }
  await send()
  for (let i = 0; i < WARM_UP; i++) await send()
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  for (let i = 0; i < requests; i++) await send()
  const { user, system } = process.cpuUsage(cpu)
  const wall = Number(process.hrtime.bigint() - started) / 1000 / requests
  // CPU time (this process's threads, GC included) moves less than wall time on a shared machine.
  const cpuUs = (user + system) / requests
  console.log(
    `${label.padEnd(40)} ${wall.toFixed(0).padStart(6)} µs wall ${cpuUs.toFixed(0).padStart(6)} µs CPU per request (${requests})`,
  )
}

// PROFILE_OUT=file.cpuprofile records a CPU profile of the requests only (not the seeding).
const session = process.env.PROFILE_OUT ? new Session() : undefined
if (session) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
try {
  await time('bare Fastify route', '/bare', bare)
  await time('GET /health', '/health')
  await time('GET /projects/{id}/protocols', '/projects/50/protocols')
  await time('GET /protocols/{id}/events?limit=100', '/protocols/500/events?limit=100')
  await time('GET /events?limit=50', '/events?limit=50')
  await time('GET /projects/{id}', '/projects/50')
  await time('POST /protocols/{id}/steps', (i) => ({
    method: 'POST',
    url: '/protocols/500/steps',
    payload: { step_index: 0, step_name: `s-${i}`, step_type: 'work' },
  }))
  // A started step holds its run (a second start answers 409 ORC_RUN_BUSY), so each start needs a
  // run of its own: step 0 (id = run id) of runs 1..500, then run_next_step on runs 1000 down to 501.
  await time(
    'POST /steps/{id}/actions/run',
    (i) => ({ method: 'POST', url: `/steps/${i + 1}/actions/run`, payload: {} }),
    running.server,
    STARTS,
  )
  await time(
    'POST /protocols/{id}/actions/run_next_step',
    (i) => ({ method: 'POST', url: `/protocols/${RUNS - i}/actions/run_next_step`, payload: {} }),
    running.server,
    STARTS,
  )
  // Token-protected runs 91..100 of each hundred, paused then resumed in turn.
  await time('POST /protocols/{id}/actions/pause|resume', (i) => ({
    method: 'POST',
    url: `/protocols/${Math.floor((i % 100) / 10) * 100 + 91 + (i % 10)}/actions/${Math.floor(i / 100) % 2 === 0 ? 'pause' : 'resume'}`,
    payload: {},
  }))
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(process.env.PROFILE_OUT!, JSON.stringify(profile))
  }
} finally {
  await running.stop()
  rmSync(dir, { recursive: true, force: true })
}
