import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createJobRunner } from '../../../src/app/queue-runtime/job-runner.js'
import { jobTimeoutsMs } from '../../../src/app/queue-runtime/job-timeouts.js'
import { RunningJobs } from '../../../src/app/queue-runtime/run-aborts.js'
import type { UnitOfWork } from '../../../src/app/ports.js'
import type { Job } from '../../../src/domain/job.js'
import { createLogger } from '../../../src/logging.js'
import { createFakeJobAttempts } from '../../fakes/job-attempts.fake.js'
import { handlersRunning } from '../../fakes/job-handlers.fake.js'

const capturedLogger = () => {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write: (chunk, _encoding, done) => {
      lines.push(JSON.parse(chunk.toString()))
      done()
    },
  })
  return { lines, logger: createLogger({ env: 'test', log: { level: 'info', json: true } }, stream) }
}

// The runner writes through `jobs` only when the precheck proceeds and the handler succeeds.
const noTransactions: UnitOfWork = {
  run: () => Promise.reject(new Error('this attempt needs no transaction')),
}

const jobWith = (payload: Record<string, string>): Job => ({
  id: 'job-1',
  type: 'plan_protocol_job',
  payload: { protocol_run_id: 7, job_id: 'job-1', ...payload },
  status: 'started',
  queue: 'default',
  attempts: 1,
  maxAttempts: 3,
  nextRunAt: new Date().toISOString(),
  createdAt: new Date().toISOString(),
  startedAt: new Date().toISOString(),
  endedAt: null,
  result: null,
  error: null,
  meta: null,
  projectId: 1,
  protocolRunId: 7,
  stepRunId: null,
})

const runOnce = async (job: Job) => {
  const { lines, logger } = capturedLogger()
  const jobs = createFakeJobAttempts()
  const runner = createJobRunner({
    uow: noTransactions,
    jobs,
    handlers: handlersRunning(async () => ({ planned: true })),
    policy: {
      maxAttempts: 3,
      backoffBaseMs: 10,
      backoffMaxMs: 10,
      timeoutsMs: jobTimeoutsMs(60, 60),
      leaseMs: 60_000,
    },
    running: new RunningJobs(),
    logger,
  })
  const outcome = await runner.run(job, { jobId: job.id, token: 't-1', attempt: 1, maxAttempts: 3 })
  return { outcome, lines, settlements: jobs.settlements }
}

describe('job log lines', () => {
  it('carry the request_id of the request that enqueued the job, on start and end', async () => {
    const { outcome, lines, settlements } = await runOnce(jobWith({ request_id: 'req-42' }))
    expect(outcome).toBe('finished')
    expect(settlements).toEqual([
      { jobId: 'job-1', settlement: { status: 'finished', result: { planned: true } } },
    ])
    const jobLines = lines.filter((line) => line.msg === 'job_start' || line.msg === 'job_end')
    expect(jobLines).toHaveLength(2)
    for (const line of jobLines) expect(line).toMatchObject({ job_id: 'job-1', request_id: 'req-42' })
  })

  it('leave request_id out for a job no request enqueued', async () => {
    const { lines } = await runOnce(jobWith({}))
    expect(lines.find((line) => line.msg === 'job_start')).not.toHaveProperty('request_id')
  })
})
