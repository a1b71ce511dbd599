import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { enqueueJob } from '../../src/app/queue-runtime/enqueue.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { waitFor } from '../support/queue-harness.js'

describe('serve on the embedded queue', () => {
  let running: RunningServer | undefined
  let dir: string | undefined
  afterEach(async () => {
    await running?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('counts the jobs it ran on its own /metrics, as a worker process does', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgz-serve-metrics-'))
    const config = loadConfig(
      { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_LOG_LEVEL: 'error' },
      dir,
    )
    running = await startServer(config, createLogger(config), { port: 0 })
    // A global spec audit: the real handler finishes at once when there are no runs.
    await running.runtime.deps.uow.run((repos) =>
      enqueueJob(
        repos.jobs,
        'spec_audit_job',
        { project_id: null, protocol_id: null, backfill_missing: false },
        { scope: { projectId: null }, origin: {}, policy: { maxAttempts: 3 } },
      ),
    )
    const scrape = await waitFor(async () => {
      const text = await (await fetch(`${running!.address}/metrics`)).text()
      return text.includes('jobs_processed_total{job_type="spec_audit_job",status="completed"} 1') && text
    }, 15_000)
    expect(scrape).toMatch(/jobs_duration_seconds_count\{job_type="spec_audit_job",status="completed"\} 1/)
    expect(scrape).toMatch(/queue_depth\{queue="default",state="queued"\} 0/)
  })
})
