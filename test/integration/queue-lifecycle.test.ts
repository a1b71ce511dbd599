import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { enqueueJob } from '../../src/app/queue-runtime/enqueue.js'
import { runCli, spawnCli, type CliProcess } from '../support/cli.js'
import { unavailable } from '../support/databases.js'
import { REDIS_URL, startQueueHarness, waitFor, type QueueHarness } from '../support/queue-harness.js'

/** A port nothing listens on: connections are refused at once. */
const CLOSED_REDIS = 'redis://:hunter2@127.0.0.1:1/0'

describe('start-up with an unreachable Redis', () => {
  const dirs: string[] = []
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

  for (const command of [['worker'], ['serve', '--port', '0']]) {
    it(`${command[0]} exits with one clear line and no password`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tgz-redis-down-'))
      dirs.push(dir)
      const env = { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_REDIS_URL: CLOSED_REDIS }
      const result = await runCli(command, env)
      expect(result.code).toBe(1)
      const lines = result.stderr.split('\n').filter(Boolean)
      expect(lines).toEqual([
        'tasksgodzilla: Redis at redis://***@127.0.0.1:1/0 is unreachable (connect ECONNREFUSED 127.0.0.1:1); check TASKSGODZILLA_REDIS_URL',
      ])
      expect(result.stdout).not.toContain('hunter2')
    }, 60_000)
  }
})

describe.skipIf(!REDIS_URL || unavailable('postgres'))('tasksgodzilla worker --metrics-port', () => {
  let harness: QueueHarness | undefined
  let worker: CliProcess | undefined
  afterEach(async () => {
    worker?.kill('SIGKILL')
    await harness?.stop()
  })

  it('serves the jobs it ran on its own /metrics port, and stops on SIGTERM', async () => {
    // A fresh database; the worker is the real CLI process (its own relay hands the job to Redis).
    harness = await startQueueHarness('redis', 'postgres', { inProcess: false })
    const env = { ...harness.env, TASKSGODZILLA_LOG_LEVEL: 'info' }
    worker = spawnCli(['worker', '--metrics-port', '0', '--grace', '2'], env)
    const started = await worker.waitForOutput(/Worker started.*"metrics":"http:\/\/[^"]+"/, 40_000)
    const address = /"metrics":"(http:\/\/[^"]+)"/.exec(started)![1]!.replace('0.0.0.0', '127.0.0.1')
    // A global spec audit: the real handler finishes at once when there are no runs.
    const job = await harness.uow.run((repos) =>
      enqueueJob(
        repos.jobs,
        'spec_audit_job',
        { project_id: null, protocol_id: null, backfill_missing: false },
        {
          scope: { projectId: null },
          origin: {},
          policy: {
            maxAttempts: 3,
          },
        },
      ),
    )
    await waitFor(async () => (await harness!.repos.jobs.findById(job.id))?.status === 'finished', 30_000)
    const scrape = await waitFor(async () => {
      const text = await (await fetch(`${address}/metrics`)).text()
      return text.includes('jobs_processed_total{job_type="spec_audit_job",status="completed"} 1') && text
    }, 10_000)
    expect(scrape).toMatch(/jobs_duration_seconds_count\{job_type="spec_audit_job",status="completed"\} 1/)
    expect(scrape).toMatch(/queue_depth\{queue="default",state="queued"\} \d+/)
    expect((await fetch(`${address}/other`)).status).toBe(404)
    worker.kill('SIGTERM')
    expect(await worker.exited).toBe(0)
    await expect(fetch(`${address}/metrics`)).rejects.toThrow()
  }, 90_000)
})
