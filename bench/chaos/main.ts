/**
 * `npm run chaos`: the fault campaign on the scaled set-up (docs/operations.md, "Fault campaign").
 * 2 API + 3 worker processes on a private Postgres and a private Redis (never the shared servers:
 * both are restarted), 100 protocol runs with the demo agent, a worker SIGKILLed every few seconds,
 * Redis and Postgres each restarted once. Prints the figures as JSON and exits 1 when a run was lost.
 *   npm run chaos -- --runs 100 --kill-every 8 --redis-port 6390 --pg-port 5440
 *   npm run chaos -- --runs 24 --workers 1 --concurrency 4 --kill-every 0 --no-restarts --pool 2   # sizing
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startPrivatePostgres, startPrivateRedis } from './backends.js'
import { runCampaign } from './campaign.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100' },
    parallel: { type: 'string', default: '20' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '2' },
    'kill-every': { type: 'string', default: '8' },
    'redis-port': { type: 'string', default: '6390' },
    'pg-port': { type: 'string', default: '5440' },
    keep: { type: 'boolean', default: false },
    'kill-busy': { type: 'boolean', default: false },
    // Sizing runs: --kill-every 0 --no-restarts --pool N
    'no-restarts': { type: 'boolean', default: false },
    pool: { type: 'string', default: '5' },
  },
})

const dir = mkdtempSync(join(tmpdir(), 'tgz-chaos-'))
// The private Postgres runs as `nobody` when we are root: it must reach its folder.
chmodSync(dir, 0o755)
const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
const redis = await startPrivateRedis(Number(values['redis-port']), join(dir, 'redis'))
const postgres = await startPrivatePostgres(Number(values['pg-port']), join(dir, 'postgres')).catch(
  async (error: unknown) => {
    await redis.stop()
    throw error
  },
)
try {
  const admin = new pg.Client({ connectionString: postgres.url })
  await admin.connect()
  await admin.query('create database chaos')
  await admin.end()
  log(`work dir ${dir}; Redis ${redis.url}; Postgres ${postgres.url}`)
  const report = await runCampaign({
    dir,
    databaseUrl: postgres.url.replace(/\/postgres$/, '/chaos'),
    postgres,
    redis,
    runs: Number(values.runs),
    parallelRuns: Number(values.parallel),
    apis: 2,
    workers: Number(values.workers),
    workerConcurrency: Number(values.concurrency),
    killEveryMs: Number(values['kill-every']) > 0 ? Number(values['kill-every']) * 1000 : undefined,
    killBusy: values['kill-busy'],
    restartRedisAt: values['no-restarts'] ? undefined : 0.3,
    restartPostgresAt: values['no-restarts'] ? undefined : 0.6,
    poolSize: Number(values.pool),
    outageMs: 3_000,
    deadlineMs: 20 * 60_000,
    settleMs: 60_000,
    log,
  })
  const text = JSON.stringify(report, null, 2)
  writeFileSync(join(dir, 'report.json'), text)
  process.stdout.write(`${text}\n`)
  process.exitCode =
    report.runsLost === 0 && report.duplicateStepCompletions === 0 && report.stepsStuck === 0 ? 0 : 1
} finally {
  await postgres.stop()
  await redis.stop()
  if (!values.keep && process.exitCode !== 1) rmSync(dir, { recursive: true, force: true })
  else log(`kept ${dir} (process logs under process-logs/)`)
}
