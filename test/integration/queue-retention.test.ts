import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { DIALECTS, unavailable } from '../support/databases.js'
import {
  BACKENDS,
  backendUnavailable,
  startQueueHarness,
  waitFor,
  type QueueHarness,
} from '../support/queue-harness.js'

const HOUR_MS = 3_600_000
const hoursAgo = (hours: number): string => new Date(Date.now() - hours * HOUR_MS).toISOString()

for (const backend of BACKENDS) {
  for (const dialect of DIALECTS) {
    describe.skipIf(backendUnavailable(backend) || unavailable(dialect))(
      `job retention on ${backend} + ${dialect}`,
      () => {
        let harness: QueueHarness
        afterEach(async () => harness.stop())

        /** A job row as the queue leaves it, `endedHoursAgo` after it ended (never when undefined). */
        const insertJob = async (status: string, endedHoursAgo?: number): Promise<string> => {
          const id = randomUUID()
          const created = hoursAgo((endedHoursAgo ?? 100) + 1)
          await harness.handle.db
            .insertInto('jobs')
            .values({
              id,
              job_type: 'spec_audit_job',
              payload: '{}',
              status,
              queue: 'default',
              attempts: 1,
              max_attempts: 3,
              // A queued job due in a day: old, but not yet run.
              next_run_at: status === 'queued' ? new Date(Date.now() + 24 * HOUR_MS).toISOString() : created,
              created_at: created,
              ended_at: endedHoursAgo === undefined ? null : hoursAgo(endedHoursAgo),
              project_id: null,
              protocol_run_id: null,
              step_run_id: null,
            })
            .execute()
          return id
        }

        it('prunes ended jobs older than TASKSGODZILLA_JOB_RETENTION_HOURS and keeps the rest', async () => {
          harness = await startQueueHarness(backend, dialect, {
            inProcess: false,
            env: { TASKSGODZILLA_JOB_RETENTION_HOURS: '48' },
          })
          const old = [
            await insertJob('finished', 49),
            await insertJob('failed', 72),
            await insertJob('cancelled', 50),
          ]
          const kept = [
            await insertJob('finished', 47),
            await insertJob('failed', 25),
            await insertJob('queued'),
            await insertJob('started'),
          ]
          await harness.queue.start()
          await waitFor(
            async () =>
              (await Promise.all(old.map((id) => harness.repos.jobs.findById(id)))).every((j) => !j),
            15_000,
            'old jobs to be pruned',
          )
          const remaining = await Promise.all(kept.map((id) => harness.repos.jobs.findById(id)))
          expect(remaining.map((job) => job?.status)).toEqual(['finished', 'failed', 'queued', 'started'])
        })
      },
    )
  }
}
