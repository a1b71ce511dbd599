import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReviewFollowupHandler } from '../../../src/app/reviews/review-followup.job.js'
import { createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { seedStartedJob } from '../../support/fixtures.js'
import { jobRun } from '../../support/protocol-jobs.js'

const PROJECT_SECRET = 'project-hook-secret'
const fixture = (name: string, branch: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8').replaceAll(
      'BRANCH',
      branch,
    ),
  )
const sign = (body: string, secret = PROJECT_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`PR review webhooks on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    let gitlabProjectId: number

    const github = (
      event: string,
      payload: unknown,
      options: { signature?: string; delivery?: string } = {},
    ) => {
      const body = JSON.stringify(payload)
      return api.server.inject({
        method: 'POST',
        url: '/webhooks/github',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': options.delivery ?? randomUUID(),
          ...(options.signature === '' ? {} : { 'x-hub-signature-256': options.signature ?? sign(body) }),
        },
      })
    }
    const gitlab = (payload: unknown, token = PROJECT_SECRET) =>
      api.server.inject({
        method: 'POST',
        url: '/webhooks/gitlab',
        payload: JSON.stringify(payload),
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': 'Note Hook',
          'x-gitlab-token': token,
        },
      })
    const eventsOf = async (id: number) =>
      (await api.request('GET', `/protocols/${id}/events`)).json() as Array<{
        event_type: string
        metadata: Record<string, unknown> | null
      }>
    const types = async (id: number) => (await eventsOf(id)).map((e) => e.event_type)
    /** A run whose only step executed and completed, the run itself completed (its PR open). */
    const finishedRun = async (project = projectId) => {
      const run = await createProtocol(api, project, { status: 'running' })
      const step = await createStep(api, run.id, { status: 'completed' })
      await api.runtime.deps.repos.steps.update(step.id, { headSha: 'c'.repeat(40) })
      await api.runtime.deps.repos.runs.compareAndSetStatus(run.id, ['running'], 'completed')
      return { run, step }
    }
    const closeWindow = async (runId: number) => {
      const jobs = await api.runtime.deps.repos.jobs.list({ limit: 50 })
      const job = jobs.find(
        (j) =>
          j.type === 'review_followup_job' && j.payload.protocol_run_id === runId && j.status === 'queued',
      )
      if (!job) throw new Error('no review job')
      const handler = createReviewFollowupHandler({
        uow: api.runtime.deps.uow,
        config: { jobs: { maxAttempts: 3 } },
      })
      return handler(job.payload as never, jobRun(new AbortController().signal, job.id))
    }

    beforeAll(async () => {
      api = await openTestApi(dialect, {
        TASKSGODZILLA_REVIEW_DEBOUNCE_SECONDS: '60',
        TASKSGODZILLA_BOT_LOGIN: 'tasksgodzilla-bot, tgz[bot]',
        TASKSGODZILLA_REVIEW_MAX_ROUNDS: '2',
      })
      const created = await api.request('POST', '/projects', {
        body: { name: `widgets-${randomUUID().slice(0, 6)}`, git_url: 'https://github.com/acme/widgets.git' },
      })
      projectId = created.json().id
      await api.runtime.deps.repos.projects.update(projectId, { secrets: { webhook_secret: PROJECT_SECRET } })
      const gitlabProject = await api.request('POST', '/projects', {
        body: {
          name: `gl-${randomUUID().slice(0, 6)}`,
          git_url: 'https://gitlab.example.com/acme/widgets.git',
        },
      })
      gitlabProjectId = gitlabProject.json().id
      await api.runtime.deps.repos.projects.update(gitlabProjectId, {
        secrets: { webhook_secret: PROJECT_SECRET },
      })
    })
    afterAll(() => api.close())

    it('gathers a review of several comments into one debounced follow-up that re-opens the last step with file and line', async () => {
      const { run, step } = await finishedRun()
      const review = fixture('github-pull-request-review', run.protocol_name)
      expect((await github('pull_request_review', review)).json()).toMatchObject({
        message: 'Review recorded; follow-up scheduled',
      })
      for (let i = 0; i < 3; i++) {
        const comment = fixture('github-pull-request-review-comment', run.protocol_name)
        ;(comment.comment as Record<string, unknown>).id = 1600000 + i
        ;(comment.comment as Record<string, unknown>).line = 10 + i
        expect((await github('pull_request_review_comment', comment)).statusCode).toBe(200)
      }
      const scheduled = (await api.runtime.deps.repos.jobs.list({ limit: 50 })).filter(
        (j) => j.type === 'review_followup_job' && j.payload.protocol_run_id === run.id,
      )
      expect(scheduled).toHaveLength(1)
      expect(Date.parse(scheduled[0]!.nextRunAt)).toBeGreaterThan(Date.now() + 50_000)

      expect(await closeWindow(run.id)).toMatchObject({ reopened: step.id, round: 1, comments: 4 })
      const reopened = (await api.request('GET', `/steps/${step.id}`)).json()
      expect(reopened.status).toBe('running')
      const feedback = reopened.runtime_state.review_feedback
      expect(feedback.comments).toHaveLength(4)
      expect(feedback.comments[1]).toMatchObject({ path: 'src/frobnicator.ts', line: 10, author: 'alice' })
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('running')
      expect(await types(run.id)).toEqual(
        expect.arrayContaining([
          'review_received',
          'review_followup_scheduled',
          'review_step_reopened',
          'step_enqueued',
        ]),
      )
    })

    it('holds the comments for another window while a base sync has the worktree, then re-opens the step', async () => {
      const { run, step } = await finishedRun()
      const review = fixture('github-pull-request-review', run.protocol_name)
      expect((await github('pull_request_review', review)).statusCode).toBe(200)
      const { repos, uow } = api.runtime.deps
      const claim = await seedStartedJob(repos, {
        id: `sync-${run.id}`,
        type: 'base_sync_job',
        payload: { protocol_run_id: run.id },
        maxAttempts: 3,
        projectId,
        protocolRunId: run.id,
        stepRunId: null,
      })
      const sync = { id: claim.jobId }
      await uow.run((tx) =>
        tx.leases.swap(
          { protocolRunId: run.id, stepRunId: step.id, jobId: sync.id, heldFor: 'base_sync' },
          undefined,
        ),
      )
      expect(await closeWindow(run.id)).toEqual({
        deferred: `step ${step.step_name} is having its branch synced with the base`,
      })
      expect((await api.request('GET', `/steps/${step.id}`)).json().status).toBe('completed')
      await repos.jobs.settle(claim, { status: 'finished', result: {} })
      expect(await closeWindow(run.id)).toMatchObject({ reopened: step.id, round: 1 })
      expect((await api.request('GET', `/steps/${step.id}`)).json().status).toBe('running')
    })

    it("ignores comments from the server's own account", async () => {
      const { run } = await finishedRun()
      const comment = fixture('github-pull-request-review-comment', run.protocol_name)
      ;(comment.comment as Record<string, unknown>).user = { login: 'TGZ[bot]', type: 'Bot' }
      expect((await github('pull_request_review_comment', comment)).json().message).toMatch(/^Review ignored/)
      expect(await types(run.id)).not.toContain('review_followup_scheduled')
      expect(
        (await api.runtime.deps.repos.jobs.list({ limit: 100 })).some(
          (j) => j.payload.protocol_run_id === run.id,
        ),
      ).toBe(false)
    })

    it('refuses an unsigned or wrongly signed review with 401 and changes nothing', async () => {
      const { run } = await finishedRun()
      const before = await types(run.id)
      const review = fixture('github-pull-request-review', run.protocol_name)
      const unsigned = await github('pull_request_review', review, { signature: '' })
      expect(unsigned.statusCode).toBe(401)
      const forged = await github('pull_request_review', review, {
        signature: sign(JSON.stringify(review), 'guess'),
      })
      expect(forged.statusCode).toBe(401)
      expect(await types(run.id)).toEqual(before)
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('completed')
      expect(
        (await api.runtime.deps.repos.jobs.list({ limit: 100 })).some(
          (j) => j.payload.protocol_run_id === run.id,
        ),
      ).toBe(false)
    })

    it('answers 200 "ignored" for a review on a PR no run owns, and a replay as a duplicate', async () => {
      const review = fixture('github-pull-request-review', 'someone-elses-branch')
      const reply = await github('pull_request_review', review)
      expect(reply.statusCode).toBe(200)
      expect(reply.json().message).toBe('Review ignored: no run owns this PR/MR')
      const { run } = await finishedRun()
      const ours = fixture('github-pull-request-review', run.protocol_name)
      expect((await github('pull_request_review', ours, { delivery: 'same-id' })).statusCode).toBe(200)
      expect((await github('pull_request_review', ours, { delivery: 'other-id' })).json().message).toBe(
        'Duplicate delivery ignored',
      )
    })

    it('takes GitLab merge-request notes too', async () => {
      const { run, step } = await finishedRun(gitlabProjectId)
      expect((await gitlab(fixture('gitlab-merge-request-note', run.protocol_name))).statusCode).toBe(200)
      expect(
        (await gitlab(fixture('gitlab-merge-request-note', run.protocol_name), 'wrong')).statusCode,
      ).toBe(401)
      await closeWindow(run.id)
      const reopened = (await api.request('GET', `/steps/${step.id}`)).json()
      expect(reopened.runtime_state.review_feedback.comments[0]).toMatchObject({
        path: 'src/frob.ts',
        line: 12,
        author: 'bob',
      })
    })

    it('blocks the run with reason needs_human once the loop cap is reached', async () => {
      const { run, step } = await finishedRun()
      for (let round = 1; round <= 3; round++) {
        const comment = fixture('github-pull-request-review-comment', run.protocol_name)
        ;(comment.comment as Record<string, unknown>).id = 1700000 + round
        await github('pull_request_review_comment', comment)
        await closeWindow(run.id)
        // The agent's attempt finished: the step is done again before the next review.
        if (round < 3)
          await api.runtime.deps.repos.steps.compareAndSetStatus(step.id, ['running'], 'completed')
      }
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('blocked')
      const limit = (await eventsOf(run.id)).find((e) => e.event_type === 'review_loop_limit_reached')
      expect(limit?.metadata).toMatchObject({ reason: 'needs_human', rounds: 2 })
    })
  })
}
