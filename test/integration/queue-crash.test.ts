import { afterEach, describe, expect, it } from 'vitest'
import { enqueueJob } from '../../src/app/queue-runtime/enqueue.js'
import { createJobLedger } from '../../src/adapters/storage/job-ledger.js'
import type { Job } from '../../src/domain/job.js'
import { unavailable, type TestDialect } from '../support/databases.js'
import {
  backendUnavailable,
  deletePrefix,
  startQueueHarness,
  waitFor,
  type QueueHarness,
  type TestBackend,
} from '../support/queue-harness.js'
import { spawnQueueProcess, type QueueProcess } from '../support/queue-processes.js'

/** Real processes, killed for real. Redis workers run against Postgres (the scaled set-up). */
const SETUPS: Array<[TestBackend, TestDialect]> = [
  ['embedded', 'sqlite'],
  ['embedded', 'postgres'],
  ['redis', 'postgres'],
]
const roleOf = (backend: TestBackend): 'worker' | 'embedded' => (backend === 'redis' ? 'worker' : 'embedded')
/** Crash tests measure recovery, not timeouts: agent jobs get a minute. */
const CRASH_ENV = { TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS: '60' }
const LONG = 90_000

const allEnded = (harness: QueueHarness, ids: string[], timeoutMs: number) =>
  waitFor(
    async () => {
      const jobs = await Promise.all(ids.map((id) => harness.repos.jobs.findById(id)))
      return jobs.every((job) => job?.status === 'finished') ? (jobs as Job[]) : undefined
    },
    timeoutMs,
    `${ids.length} jobs to finish`,
  )

const completions = async (harness: QueueHarness, runId: number) =>
  harness.repos.events.list({ protocolRunId: runId, eventType: 'step_completed', limit: 1000 })

for (const [backend, dialect] of SETUPS) {
  describe.skipIf(backendUnavailable(backend) || unavailable(dialect))(
    `crashes on ${backend} + ${dialect}`,
    () => {
      let harness: QueueHarness
      const processes: QueueProcess[] = []
      const spawnOne = async (extra: Record<string, string> = {}) => {
        const child = await spawnQueueProcess(roleOf(backend), harness.env, extra)
        processes.push(child)
        return child
      }
      afterEach(async () => {
        for (const p of processes.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL')
        await harness.stop()
      })

      it(
        'finishes a job on another process after kill -9 mid-job, with one completion',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          const first = await spawnOne()
          const { run, steps } = await harness.seed(['sleep-3000'])
          const job = await harness.enqueueStep(run, steps[0]!)
          await waitFor(async () => harness.effects(job.id).length > 0, 20_000, 'the first attempt')
          first.child.kill('SIGKILL')
          await first.exited
          await spawnOne()
          const [done] = await allEnded(harness, [job.id], 30_000)
          expect(done?.status).toBe('finished')
          expect(await completions(harness, run.id)).toHaveLength(1)
          const starts = harness.effects(job.id).filter((line) => line.endsWith('start'))
          expect(starts).toHaveLength(2)
          expect(new Set(starts.map((line) => line.split(' ')[1])).size).toBe(2)
        },
        LONG,
      )

      // SQLite supports one process at a time (docs/decisions.md): its successor starts after it exits.
      const rollingSuccessor = async (old: QueueProcess) => {
        if (dialect === 'sqlite') await old.exited
        return spawnOne()
      }

      it(
        'lets the running job finish on SIGTERM and runs later jobs on the successor, each once',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          const old = await spawnOne({ HARNESS_GRACE_MS: '20000' })
          const { run, steps } = await harness.seed(['sleep-1500', 'ok', 'ok', 'ok'])
          const first = await harness.enqueueStep(run, steps[0]!)
          await waitFor(async () => harness.effects(first.id).length > 0, 20_000, 'the first job to start')
          old.child.kill('SIGTERM')
          await waitFor(
            async () => old.output().includes('stopping'),
            10_000,
            'the old process to stop taking jobs',
          )
          const later: Job[] = []
          for (const step of steps.slice(1)) later.push(await harness.enqueueStep(run, step))
          const successor = await rollingSuccessor(old)
          expect(await old.exited).toBe(0)
          const done = await allEnded(
            harness,
            [first, ...later].map((job) => job.id),
            30_000,
          )
          expect(done.map((job) => job.attempts)).toEqual([1, 1, 1, 1])
          expect(harness.effects(first.id)).toEqual([`1 ${old.child.pid} start`])
          for (const job of later) expect(harness.effects(job.id)).toEqual([`1 ${successor.child.pid} start`])
          expect(await completions(harness, run.id)).toHaveLength(4)
        },
        LONG,
      )

      it(
        'hands a job still running after the grace period to the successor, which finishes it once',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          const old = await spawnOne({ HARNESS_GRACE_MS: '300' })
          const { run, steps } = await harness.seed(['sleep-4000'])
          const job = await harness.enqueueStep(run, steps[0]!)
          await waitFor(async () => harness.effects(job.id).length > 0, 20_000, 'the job to start')
          old.child.kill('SIGTERM')
          const successor = await rollingSuccessor(old)
          expect(await old.exited).toBe(0)
          const [done] = await allEnded(harness, [job.id], 30_000)
          // Handed back, not failed: the interrupted attempt does not count.
          expect(done?.attempts).toBe(1)
          expect(harness.effects(job.id)).toEqual([
            `1 ${old.child.pid} start`,
            `1 ${old.child.pid} abort`,
            `1 ${successor.child.pid} start`,
          ])
          expect(await completions(harness, run.id)).toHaveLength(1)
          const retries = await harness.repos.events.list({
            protocolRunId: run.id,
            eventType: 'job_retry_scheduled',
            limit: 10,
          })
          expect(retries).toHaveLength(0)
        },
        LONG,
      )

      it(
        'fails a job whose handler kills its process once its attempts are used up',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          const { run, steps } = await harness.seed(['crash'])
          const job = await harness.enqueueStep(run, steps[0]!, 2)
          // Every attempt kills its process; a supervisor would start another, so does this loop.
          const failed = await waitFor(
            async () => {
              const current = processes.at(-1)
              if (
                current === undefined ||
                current.child.exitCode !== null ||
                current.child.signalCode !== null
              )
                // The new process may die on its first claim before it reports ready.
                await spawnOne().catch(() => undefined)
              const row = await harness.repos.jobs.findById(job.id)
              return row?.status === 'failed' && row
            },
            60_000,
            'the crashing job to fail for good',
          )
          expect(failed.attempts).toBe(2)
          expect(failed.error).toMatch(/lost its worker/)
          expect(harness.effects(job.id).filter((line) => line.endsWith('start'))).toHaveLength(2)
          const [event] = await harness.repos.events.list({
            protocolRunId: run.id,
            eventType: 'job_failed',
            limit: 10,
          })
          expect(event?.metadata).toMatchObject({
            error_category: 'worker_lost',
            attempts: 2,
            max_attempts: 2,
          })
          const retries = await harness.repos.events.list({
            protocolRunId: run.id,
            eventType: 'job_retry_scheduled',
            limit: 10,
          })
          expect(retries.map((e) => e.metadata?.error_category)).toEqual(['worker_lost'])
          expect((await harness.repos.runs.findById(run.id))?.status).toBe('blocked')
          expect((await harness.repos.steps.findById(steps[0]!.id))?.status).toBe('failed')
          // Nothing else picks it up: the last process stays alive and idle.
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          expect(harness.effects(job.id).filter((line) => line.endsWith('start'))).toHaveLength(2)
        },
        LONG,
      )

      it(
        'runs jobs committed without reaching the queue within 30 s',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          const { run, steps } = await harness.seed(['ok', 'ok', 'ok', 'ok'])
          // As if the API died right after commit: rows exist, nothing was relayed or woken. Half are
          // taken by a relay that died before adding them (or added, then lost by Redis).
          const jobs = await harness.uow.run(async (repos) => {
            const scope = (stepRunId: number) => ({
              projectId: run.projectId,
              protocolRunId: run.id,
              stepRunId,
            })
            return Promise.all(
              steps.map((s) =>
                enqueueJob(
                  repos.jobs,
                  'execute_step_job',
                  { step_run_id: s.id },
                  { scope: scope(s.id), origin: {}, policy: { maxAttempts: 3 } },
                ),
              ),
            )
          })
          expect(await createJobLedger(harness.handle).takeUnrelayed(2)).toHaveLength(2)
          await spawnOne()
          await allEnded(
            harness,
            jobs.map((job) => job.id),
            30_000,
          )
          expect(await completions(harness, run.id)).toHaveLength(4)
        },
        LONG,
      )

      it(
        'runs every one of 200 jobs exactly once on two processes',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          // Production-length leases: this test is about claims, not about stalls on a busy machine.
          const busy = { HARNESS_CONCURRENCY: '4', HARNESS_LEASE_MS: '30000' }
          await spawnOne(busy)
          await spawnOne(busy)
          const { run, steps } = await harness.seed(Array.from({ length: 200 }, () => 'ok'))
          const jobs = await harness.uow.run((repos) =>
            Promise.all(
              steps.map((s) =>
                enqueueJob(
                  repos.jobs,
                  'execute_step_job',
                  { step_run_id: s.id },
                  {
                    scope: { projectId: run.projectId, protocolRunId: run.id, stepRunId: s.id },
                    origin: {},
                    policy: { maxAttempts: 3 },
                  },
                ),
              ),
            ),
          )
          const done = await allEnded(
            harness,
            jobs.map((job) => job.id),
            60_000,
          )
          expect(done.every((job) => job.attempts === 1)).toBe(true)
          const effects = harness.effects().filter((line) => line.endsWith(' start'))
          expect(effects).toHaveLength(200)
          expect(new Set(effects.map((line) => line.split(' ')[0])).size).toBe(200)
          expect(await completions(harness, run.id)).toHaveLength(200)
        },
        LONG,
      )

      it.skipIf(backend !== 'redis')(
        'still finishes a run when its Redis keys are wiped mid-run',
        async () => {
          harness = await startQueueHarness(backend, dialect, { inProcess: false, env: CRASH_ENV })
          await spawnOne()
          const { run, steps } = await harness.seed(Array.from({ length: 8 }, () => 'sleep-300'))
          const jobs: Job[] = []
          for (const step of steps) jobs.push(await harness.enqueueStep(run, step))
          await waitFor(async () => harness.effects().length >= 2, 20_000, 'two jobs to start')
          await deletePrefix(harness.prefix)
          await allEnded(
            harness,
            jobs.map((job) => job.id),
            30_000,
          )
          expect(await completions(harness, run.id)).toHaveLength(8)
        },
        LONG,
      )
    },
  )
}
