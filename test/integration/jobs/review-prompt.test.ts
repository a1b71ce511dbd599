import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { makeRunNextStep } from '../../../src/app/protocols/protocol-actions.js'
import { applyReviewNotice } from '../../../src/app/reviews/receive-review.js'
import { createReviewFollowupHandler } from '../../../src/app/reviews/review-followup.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun } from './protocol-fixture.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))

describe.each(DIALECTS)('review follow-up prompt on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))(
    "gives the re-opened step the review comments with file and line, leaving out the server's own",
    async () => {
      root = tempRoot('tgz-review-')
      const record = join(root, 'prompts')
      const deps = makeJobDeps(db.handle, root, {
        command: RECORDING_AGENT,
        agentArgs: [`--record=${record}`],
      })
      const uow = createUnitOfWork(db.handle.db)
      const { run } = await seedPlanningRun(db.handle, root, '0001-review')
      await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
      const first = await makeRunNextStep({
        uow,
        jobPolicy: { maxAttempts: 3 },
        abortRun: async () => undefined,
      })(run.id, {})
      const execute = (stepId: number, jobId: string) =>
        createExecuteStepHandler(deps)({ step_run_id: stepId, job_id: jobId }, jobRun(undefined, jobId))
      await execute(first.job!.stepRunId!, first.job!.id)
      const step = (await readState(db.handle, run.id)).steps[0]!
      await uow.run((tx) => tx.steps.compareAndSetStatus(step.id, ['needs_qa'], 'completed'))

      const policy = {
        debounceSeconds: 0,
        botLogins: ['tgz-bot'],
        maxRounds: 3,
        jobPolicy: { maxAttempts: 3 },
      }
      const comment = (key: string, author: string, line: number) => ({
        key,
        author,
        body: `Handle the empty list (${key}).`,
        path: 'src/list.ts',
        line,
        url: null,
        state: null,
      })
      await uow.run(async (tx) =>
        applyReviewNotice(
          tx,
          policy,
          (await tx.runs.findById(run.id))!,
          {
            provider: 'github',
            event: 'pull_request_review_comment',
            prNumber: 3,
            branch: '0001-review',
            repositoryUrls: [],
            comments: [comment('c1', 'alice', 12), comment('c2', 'tgz-bot', 13)],
          },
          {},
        ),
      )
      const jobId = `review_followup_job:${run.id}:1`
      const review = await uow.run(async (tx) => (await tx.jobs.findById(jobId))!)
      const handler = createReviewFollowupHandler({ uow, config: { jobs: { maxAttempts: 3 } } })
      expect(await handler(review.payload as never, jobRun(undefined, jobId))).toMatchObject({ comments: 1 })
      expect(await handler(review.payload as never, jobRun(undefined, jobId))).toMatchObject({
        skipped: 'window closed by another job',
      })

      const reexec = await uow.run(async (tx) =>
        (await tx.jobs.list({ limit: 20 })).find(
          (j) => j.type === 'execute_step_job' && j.status === 'queued',
        ),
      )
      await execute(step.id, reexec!.id)
      const prompts = readdirSync(record)
        .filter((n) => n.endsWith('-execute.txt'))
        .sort()
        .map((n) => readFileSync(join(record, n), 'utf8'))
      expect(prompts[0]).not.toContain('Review comments to address')
      expect(prompts[1]).toContain('## Review comments to address')
      expect(prompts[1]).toContain('- src/list.ts:12 by alice:')
      expect(prompts[1]).toContain('Handle the empty list (c1).')
      expect(prompts[1]).not.toContain('(c2)')
    },
  )

  it.skipIf(unavailable(dialect))(
    'in new_step mode runs an appended step whose prompt is the comments through execute, then QA',
    async () => {
      root = tempRoot('tgz-review-new-')
      const record = join(root, 'prompts')
      const deps = makeJobDeps(db.handle, root, {
        command: RECORDING_AGENT,
        agentArgs: [`--record=${record}`],
      })
      const uow = createUnitOfWork(db.handle.db)
      const { run } = await seedPlanningRun(db.handle, root, '0002-review-new')
      await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'p2' }, jobRun())
      const first = await makeRunNextStep({
        uow,
        jobPolicy: { maxAttempts: 3 },
        abortRun: async () => undefined,
      })(run.id, {})
      const execute = (stepId: number, jobId: string) =>
        createExecuteStepHandler(deps)({ step_run_id: stepId, job_id: jobId }, jobRun(undefined, jobId))
      await execute(first.job!.stepRunId!, first.job!.id)
      const planned = (await readState(db.handle, run.id)).steps
      for (const step of planned)
        await uow.run((tx) => tx.steps.compareAndSetStatus(step.id, ['needs_qa', 'pending'], 'completed'))
      const policy = {
        debounceSeconds: 0,
        botLogins: [],
        maxRounds: 3,
        jobPolicy: { maxAttempts: 3 },
        mode: 'new_step' as const,
      }
      await uow.run(async (tx) =>
        applyReviewNotice(
          tx,
          policy,
          (await tx.runs.findById(run.id))!,
          {
            provider: 'gitlab',
            event: 'note',
            prNumber: 4,
            branch: '0002-review-new',
            repositoryUrls: [],
            comments: [
              {
                key: 'n1',
                author: 'carol',
                body: 'Rename `tmp` to `total`.',
                path: 'src/sum.ts',
                line: 7,
                url: null,
                state: null,
              },
            ],
          },
          {},
        ),
      )
      const jobId = `review_followup_job:${run.id}:1`
      const review = await uow.run(async (tx) => (await tx.jobs.findById(jobId))!)
      const handler = createReviewFollowupHandler({ uow, config: { jobs: { maxAttempts: 3 } } })
      expect(await handler(review.payload as never, jobRun(undefined, jobId))).toMatchObject({ comments: 1 })

      const steps = (await readState(db.handle, run.id)).steps
      const added = steps[steps.length - 1]!
      expect(steps).toHaveLength(planned.length + 1)
      expect(added.stepIndex).toBe(Math.max(...planned.map((s) => s.stepIndex)) + 1)
      const job = await uow.run(async (tx) =>
        (await tx.jobs.list({ limit: 50 })).find(
          (j) => j.type === 'execute_step_job' && j.stepRunId === added.id,
        ),
      )
      expect(await execute(added.id, job!.id)).not.toMatchObject({ outcome: 'failed' })
      const prompt = readdirSync(record)
        .filter((n) => n.endsWith('-execute.txt'))
        .sort()
        .map((n) => readFileSync(join(record, n), 'utf8'))
        .pop()!
      expect(prompt).toContain(`Step file: ${added.stepName}`)
      expect(prompt).toContain('It has no step file: the review comments are the task.')
      expect(prompt).toContain('- src/sum.ts:7 by carol:')
      expect(prompt).toContain('Rename `tmp` to `total`.')
      // Executed: it waits for QA like any step, and its commit is what CI results will name.
      const after = await uow.run((tx) => tx.steps.findById(added.id))
      expect(after?.status).toBe('needs_qa')
      expect(after?.headSha).toMatch(/^[0-9a-f]{40}$/)
    },
  )
})
