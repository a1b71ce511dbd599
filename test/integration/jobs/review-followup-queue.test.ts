import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { applyReviewNotice } from '../../../src/app/reviews/receive-review.js'
import type { ReviewNotice } from '../../../src/domain/review-notice.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import {
  BACKENDS,
  backendUnavailable,
  startQueueHarness,
  waitFor,
  type QueueHarness,
} from '../../support/queue-harness.js'

const POLICY = { debounceSeconds: 1, botLogins: [], maxRounds: 3, jobPolicy: { maxAttempts: 3 } }

const review = (id: number, line: number): ReviewNotice => ({
  provider: 'github',
  event: 'pull_request_review_comment',
  prNumber: 7,
  branch: null,
  repositoryUrls: [],
  comments: [
    { key: `c:${id}`, author: 'alice', body: `fix ${id}`, path: 'src/a.ts', line, url: null, state: null },
  ],
})

for (const backend of BACKENDS) {
  for (const dialect of DIALECTS) {
    describe.skipIf(backendUnavailable(backend) || unavailable(dialect))(
      `review debounce on ${backend} + ${dialect}`,
      () => {
        let harness: QueueHarness
        beforeEach(async () => {
          harness = await startQueueHarness(backend, dialect)
        })
        afterEach(async () => harness.stop())

        it('turns comments arriving within the window into one delayed follow-up that runs the step again', async () => {
          const { run, steps } = await harness.seed(['ok'])
          const step = steps[0]!
          await harness.repos.steps.compareAndSetStatus(step.id, ['pending'], 'completed')
          // Every step done: the run completed, its PR still open for review.
          await harness.repos.runs.compareAndSetStatus(run.id, ['running'], 'completed')
          const started = Date.now()
          for (let i = 0; i < 5; i++)
            await harness.uow.run(async (tx) => {
              const current = (await tx.runs.findById(run.id))!
              await applyReviewNotice(tx, POLICY, current, review(i, 10 + i), {})
            })
          const jobs = (await harness.repos.jobs.list({ limit: 50 })).filter(
            (j) => j.type === 'review_followup_job',
          )
          expect(jobs.map((j) => j.id)).toEqual([`review_followup_job:${run.id}:1`])
          const reopened = await waitFor(
            async () => {
              const events = await harness.repos.events.list({
                protocolRunId: run.id,
                eventType: 'review_step_reopened',
                limit: 10,
              })
              return events.length > 0 ? events : undefined
            },
            20_000,
            'the follow-up',
          )
          expect(Date.now() - started).toBeGreaterThanOrEqual(900)
          expect(reopened).toHaveLength(1)
          expect(reopened[0]!.metadata).toMatchObject({ comments: 5, round: 1 })
          // The step's execution job ran through the same queue and completed it again.
          await waitFor(
            async () =>
              (await harness.repos.steps.findById(step.id))?.status === 'completed' ? true : undefined,
            20_000,
            'the step to complete',
          )
          const after = await harness.repos.steps.findById(step.id)
          expect((after?.runtimeState?.review_feedback as { comments: unknown[] }).comments).toHaveLength(5)
        })
      },
    )
  }
}
