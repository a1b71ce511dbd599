import { spawnSync } from 'node:child_process'
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startPrivateRedis, externalBackend, type Backend } from '../../bench/chaos/backends.js'
import { freePort, runCampaign } from '../../bench/chaos/campaign.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { removeDir, tempDir } from '../support/git-repos.js'

/**
 * The short version of `npm run chaos`: the real CLI's API and worker processes on Postgres and a
 * Redis of its own (the shared one is never touched), a few runs, one busy worker SIGKILLed.
 */
const redisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
const missing = unavailable('postgres')
  ? 'TASKSGODZILLA_TEST_PG_URL is not set'
  : redisServer
    ? undefined
    : 'redis-server is not on PATH'
if (missing) console.warn(`[deploy] short fault campaign SKIPPED: ${missing}`)

describe.skipIf(missing !== undefined)('fault campaign, short', () => {
  const dir = tempDir('tgz-chaos-short-')
  let database: TestDatabase | undefined
  let redis: Backend | undefined
  afterAll(async () => {
    await redis?.stop()
    await database?.drop()
    removeDir(dir)
  })

  it('completes every run once with a busy worker killed, leaving nothing stuck', async () => {
    chmodSync(dir, 0o755)
    database = await createTestDatabase('postgres')
    if (database.target.dialect !== 'postgres') throw new Error('expected a Postgres database')
    redis = await startPrivateRedis(await freePort(), join(dir, 'redis'))
    const report = await runCampaign({
      dir,
      databaseUrl: database.target.url,
      postgres: externalBackend(database.target.url),
      redis,
      runs: 4,
      parallelRuns: 4,
      apis: 2,
      workers: 2,
      workerConcurrency: 2,
      // Early, while runs are still waiting to start: on a quiet machine the runs can all finish
      // within the first few seconds, and a later first kill would find nothing worth killing.
      killEveryMs: 500,
      maxKills: 1,
      outageMs: 0,
      deadlineMs: 150_000,
      settleMs: 60_000,
      log: () => undefined,
    })
    expect(report.faults.map((fault) => fault.kind)).toEqual(['worker-kill'])
    expect(report).toMatchObject({
      runsCompleted: 4,
      runsLost: 0,
      duplicateStepCompletions: 0,
      stepsStuck: 0,
      jobsNotEnded: 0,
      jobsFailed: 0,
      processesDied: [],
    })
  }, 300_000)
})
