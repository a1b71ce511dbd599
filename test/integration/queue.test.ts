import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { changeRunStatus } from '../../src/app/state-changes.js'
import type { Job } from '../../src/domain/job.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import {
  BACKENDS,
  backendUnavailable,
  startQueueHarness,
  waitFor,
  type QueueHarness,
} from '../support/queue-harness.js'

const ended = (harness: QueueHarness, id: string, statuses = ['finished', 'failed', 'cancelled']) =>
  waitFor(
    async () => {
      const job = await harness.repos.jobs.findById(id)
      return job && statuses.includes(job.status) ? job : undefined
    },
    20_000,
    `job ${id} to end`,
  )

const eventsOf = async (harness: QueueHarness, runId: number, type: string) =>
  (await harness.repos.events.list({ protocolRunId: runId, eventType: type, limit: 100 })).reverse()

for (const backend of BACKENDS) {
  for (const dialect of DIALECTS) {
    describe.skipIf(backendUnavailable(backend) || unavailable(dialect))(
      `queue on ${backend} + ${dialect}`,
      () => {
        let harness: QueueHarness
        beforeEach(async () => {
          harness = await startQueueHarness(backend, dialect)
        })
        afterEach(async () => harness.stop())

        it('runs a job once and records it finished with its attempt count', async () => {
          const { run, steps } = await harness.seed(['ok'])
          const queued = await harness.enqueueStep(run, steps[0]!)
          expect(queued.payload).toMatchObject({
            job_id: queued.id,
            request_id: 'req-1',
            step_run_id: steps[0]!.id,
          })
          const job = await ended(harness, queued.id)
          expect(job).toMatchObject({ status: 'finished', attempts: 1, result: 'ok', error: null })
          expect(job.startedAt).not.toBeNull()
          expect(job.endedAt).not.toBeNull()
          expect(await eventsOf(harness, run.id, 'step_completed')).toHaveLength(1)
          expect(harness.effects(queued.id)).toHaveLength(1)
        })

        it('retries a failing job on the backoff schedule, then succeeds', async () => {
          const { run, steps } = await harness.seed(['fail-2'])
          const job = await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          expect(job).toMatchObject({ status: 'finished', attempts: 3 })
          const retries = await eventsOf(harness, run.id, 'job_retry_scheduled')
          expect(retries.map((e) => [e.metadata?.attempts, e.metadata?.delay_ms])).toEqual([
            [1, 50],
            [2, 100],
          ])
          expect(retries[0]?.metadata).toMatchObject({
            error_category: 'runtime',
            job_id: job.id,
            request_id: 'req-1',
          })
          expect(await eventsOf(harness, run.id, 'job_failed')).toHaveLength(0)
          expect((await harness.repos.runs.findById(run.id))?.status).toBe('running')
        })

        it('fails for good only after the last attempt: job_failed, run blocked, step failed', async () => {
          const { run, steps } = await harness.seed(['fail-9'])
          const job = await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          expect(job).toMatchObject({ status: 'failed', attempts: 3, error: 'planned failure on attempt 3' })
          expect(await eventsOf(harness, run.id, 'job_retry_scheduled')).toHaveLength(2)
          const failed = await eventsOf(harness, run.id, 'job_failed')
          expect(failed).toHaveLength(1)
          expect(failed[0]?.metadata).toMatchObject({
            error_type: 'Error',
            error_category: 'runtime',
            attempts: 3,
            job_id: job.id,
          })
          expect((await harness.repos.runs.findById(run.id))?.status).toBe('blocked')
          expect((await harness.repos.steps.findById(steps[0]!.id))?.status).toBe('failed')
        })

        it('fails a non-retryable error at once', async () => {
          const { run, steps } = await harness.seed(['perm'])
          const job = await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          expect(job).toMatchObject({ status: 'failed', attempts: 1 })
          expect(await eventsOf(harness, run.id, 'job_retry_scheduled')).toHaveLength(0)
          const [failed] = await eventsOf(harness, run.id, 'job_failed')
          expect(failed?.metadata).toMatchObject({
            error_category: 'validation',
            error_type: 'PermanentJobError',
            attempts: 1,
          })
        })

        it('retries a git error, which the taxonomy calls retryable', async () => {
          const { run, steps } = await harness.seed(['git'])
          const job = await ended(harness, (await harness.enqueueStep(run, steps[0]!, 2)).id)
          expect(job).toMatchObject({ status: 'failed', attempts: 2 })
          const [failed] = await eventsOf(harness, run.id, 'job_failed')
          expect(failed?.metadata).toMatchObject({
            error_category: 'git',
            error_type: 'AppError',
            attempts: 2,
          })
        })

        it('aborts a handler at its timeout, even one that ignores its signal', async () => {
          const { run, steps } = await harness.seed(['hang'])
          const job = await ended(harness, (await harness.enqueueStep(run, steps[0]!, 1)).id)
          expect(job).toMatchObject({ status: 'failed', attempts: 1 })
          expect(job.error).toMatch(/timed out after 1 s/)
          expect(harness.effects(job.id).map((line) => line.split(' ')[2])).toEqual(['start', 'abort'])
        })

        it('does nothing for a redelivered job whose step already completed', async () => {
          const { run, steps } = await harness.seed(['ok'])
          await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          const again = await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          expect(again).toMatchObject({ status: 'finished', result: { skipped: 'step already completed' } })
          expect(harness.effects()).toHaveLength(1)
          expect(await eventsOf(harness, run.id, 'step_completed')).toHaveLength(1)
        })

        it('drops a second execute_step_job for a step that is being executed', async () => {
          const { run, steps } = await harness.seed(['sleep-700'])
          const first = await harness.enqueueStep(run, steps[0]!)
          await waitFor(async () => harness.effects(first.id).length > 0)
          const second = await ended(harness, (await harness.enqueueStep(run, steps[0]!)).id)
          expect(second.status).toBe('cancelled')
          expect(await eventsOf(harness, run.id, 'job_duplicate_dropped')).toHaveLength(1)
          expect((await ended(harness, first.id)).status).toBe('finished')
          expect(harness.effects()).toHaveLength(1)
        })

        it('cancels a run: its queued jobs never start and its running handler is aborted', async () => {
          const { run, steps } = await harness.seed(['sleep-20000', 'ok', 'ok'])
          const running = await harness.enqueueStep(run, steps[0]!)
          await waitFor(async () => harness.effects(running.id).length > 0)
          await harness.uow.run(async (repos) => {
            await changeRunStatus(repos, run, 'pause', {
              event: { type: 'paused', message: 'p' },
              origin: {},
            })
          })
          const queued = [
            await harness.enqueueStep(run, steps[1]!),
            await harness.enqueueStep(run, steps[2]!),
          ]
          await waitFor(
            async () => (await harness.repos.jobs.findById(queued[1]!.id))?.status === 'held' || undefined,
          )
          await harness.uow.run(async (repos) => {
            const current = await repos.runs.findById(run.id)
            await changeRunStatus(repos, current!, 'cancel', {
              event: { type: 'cancelled', message: 'c' },
              origin: {},
            })
            await repos.jobs.cancelForRun(run.id)
          })
          await harness.queue.abortRun(run.id)
          const all: Job[] = []
          for (const job of [running, ...queued]) all.push(await ended(harness, job.id))
          expect(all.map((job) => job.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
          expect(harness.effects(running.id).map((line) => line.split(' ')[2])).toEqual(['start', 'abort'])
          expect(harness.effects()).toHaveLength(2)
        })

        it('holds the jobs of a paused run and runs them on resume', async () => {
          const { run, steps } = await harness.seed(['ok'])
          const paused = await harness.uow.run((repos) =>
            changeRunStatus(repos, run, 'pause', { event: { type: 'paused', message: 'p' }, origin: {} }),
          )
          const job = await harness.enqueueStep(run, steps[0]!)
          await waitFor(
            async () => (await harness.repos.jobs.findById(job.id))?.status === 'held' || undefined,
          )
          expect(harness.effects()).toHaveLength(0)
          await harness.uow.run(async (repos) => {
            await changeRunStatus(repos, paused, 'resume', {
              event: { type: 'resumed', message: 'r' },
              origin: {},
            })
            expect(await repos.jobs.releaseHeld(run.id)).toHaveLength(1)
          })
          expect(await ended(harness, job.id)).toMatchObject({ status: 'finished', attempts: 1 })
          expect(harness.effects(job.id)).toHaveLength(1)
        })
      },
    )
  }
}
