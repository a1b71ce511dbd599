import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReviewFollowupHandler } from '../../../src/app/reviews/review-followup.job.js'
import { createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { jobRun } from '../../support/protocol-jobs.js'

const commentDelivery = (branch: string, id: number, line: number): Record<string, unknown> => {
  const payload = JSON.parse(
    readFileSync(
      new URL('../../fixtures/webhooks/github-pull-request-review-comment.json', import.meta.url),
      'utf8',
    ).replaceAll('BRANCH', branch),
  ) as Record<string, Record<string, unknown>>
  payload.comment = { ...payload.comment, id, line }
  return payload
}

for (const dialect of DIALECTS) {
  // The server default is new_step here, so each test shows which of spec, project and server won.
  describe.skipIf(unavailable(dialect))(`review mode (spec > project > server) on ${dialect}`, () => {
    let api: TestApi
    const secrets = new Map<string, string>()

    const signedComment = (branch: string, id: number, line: number) => {
      const secret = secrets.get(branch) ?? 'none'
      const body = JSON.stringify(commentDelivery(branch, id, line))
      return api.server.inject({
        method: 'POST',
        url: '/webhooks/github',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'pull_request_review_comment',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
      })
    }
    const project = async (reviewMode?: string | null) => {
      const created = await api.request('POST', '/projects', {
        body: {
          name: `rm-${randomUUID().slice(0, 8)}`,
          git_url: 'https://github.com/acme/widgets.git',
          ...(reviewMode === undefined ? {} : { review_mode: reviewMode }),
        },
      })
      expect(created.statusCode).toBe(200)
      const id = created.json().id as number
      // One secret per project: the delivery's signature is what names its project.
      await api.runtime.deps.repos.projects.update(id, { secrets: { webhook_secret: `hook-secret-${id}` } })
      return id
    }
    /** A completed run (PR open) whose one step executed; `specMode` goes into its protocol spec. */
    const finishedRun = async (projectId: number, specMode?: string) => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      secrets.set(run.protocol_name, `hook-secret-${projectId}`)
      const step = await createStep(api, run.id, { status: 'completed', step_name: '00-work.md' })
      await api.runtime.deps.repos.steps.update(step.id, { headSha: 'c'.repeat(40) })
      if (specMode !== undefined)
        await api.runtime.deps.repos.runs.update(run.id, {
          templateConfig: {
            protocol_spec: {
              steps: [{ id: '00-work', name: '00-work.md', prompt_ref: '00-work.md' }],
              review_mode: specMode,
            },
          },
        })
      await api.runtime.deps.repos.runs.compareAndSetStatus(run.id, ['running'], 'completed')
      return { run, step }
    }
    const reviewAndCloseWindow = async (branch: string, runId: number) => {
      expect((await signedComment(branch, 1_800_000 + Math.floor(Math.random() * 1e6), 21)).statusCode).toBe(
        200,
      )
      expect((await signedComment(branch, 1_900_000 + Math.floor(Math.random() * 1e6), 34)).statusCode).toBe(
        200,
      )
      const jobs = await api.runtime.deps.repos.jobs.list({ limit: 100 })
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
    const stepsOf = async (runId: number) =>
      (await api.request('GET', `/protocols/${runId}/steps`)).json() as Array<{
        id: number
        step_index: number
        step_name: string
        status: string
        runtime_state: Record<string, { comments: unknown[]; new_step?: boolean }> | null
      }>
    const queuedExecutions = async (stepId: number) =>
      (await api.runtime.deps.repos.jobs.list({ limit: 200 })).filter(
        (j) => j.type === 'execute_step_job' && j.stepRunId === stepId && j.status === 'queued',
      )

    beforeAll(async () => {
      api = await openTestApi(dialect, {
        TASKSGODZILLA_REVIEW_DEBOUNCE_SECONDS: '60',
        TASKSGODZILLA_REVIEW_MODE: 'new_step',
      })
    })
    afterAll(() => api.close())

    it('stores review_mode on a project, clears it with null, and refuses an unknown mode with a 422 naming the modes', async () => {
      const id = await project('new_step')
      expect((await api.request('GET', `/projects/${id}`)).json().review_mode).toBe('new_step')
      const bad = await api.request('PATCH', `/projects/${id}`, { body: { review_mode: 'rewrite_history' } })
      expect(bad.statusCode).toBe(422)
      expect(JSON.stringify(bad.json())).toContain('review_mode must be one of reopen_last_step, new_step')
      expect((await api.request('GET', `/projects/${id}`)).json().review_mode).toBe('new_step')
      const refused = await api.request('POST', '/projects', {
        body: {
          name: `rm-${randomUUID().slice(0, 8)}`,
          git_url: 'https://github.com/acme/w.git',
          review_mode: 'x',
        },
      })
      expect(refused.statusCode).toBe(422)
      const cleared = await api.request('PATCH', `/projects/${id}`, { body: { review_mode: null } })
      expect(cleared.json().review_mode).toBeNull()
    })

    it('new_step (server default): appends a step after the last one with the comments, file, line and author, and starts it', async () => {
      const { run, step } = await finishedRun(await project())
      const result = await reviewAndCloseWindow(run.protocol_name, run.id)
      expect(result).toMatchObject({ round: 1, comments: 2 })
      const steps = await stepsOf(run.id)
      expect(steps).toHaveLength(2)
      expect(steps[0]).toMatchObject({ id: step.id, status: 'completed' })
      const added = steps[1]!
      expect(added).toMatchObject({ step_index: 1, step_name: '01-review-round-1.md', status: 'running' })
      expect(added.runtime_state?.review_feedback?.new_step).toBe(true)
      expect(added.runtime_state?.review_feedback?.comments).toEqual([
        expect.objectContaining({ path: 'src/frobnicator.ts', line: 21, author: 'alice' }),
        expect.objectContaining({ path: 'src/frobnicator.ts', line: 34, author: 'alice' }),
      ])
      expect(await queuedExecutions(added.id)).toHaveLength(1)
      expect(await queuedExecutions(step.id)).toHaveLength(0)
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('running')
      const events = (await api.request('GET', `/protocols/${run.id}/events`)).json() as Array<{
        event_type: string
        metadata: Record<string, unknown> | null
      }>
      expect(events.find((e) => e.event_type === 'review_step_added')?.metadata).toMatchObject({
        mode: 'new_step',
        after_step_id: step.id,
      })
    })

    it("the project's reopen_last_step wins over the server default: the last step is re-opened, no step added", async () => {
      const { run, step } = await finishedRun(await project('reopen_last_step'))
      expect(await reviewAndCloseWindow(run.protocol_name, run.id)).toMatchObject({ reopened: step.id })
      const steps = await stepsOf(run.id)
      expect(steps).toHaveLength(1)
      expect(steps[0]).toMatchObject({ status: 'running' })
      expect(steps[0]!.runtime_state?.review_feedback?.comments).toHaveLength(2)
      expect(await queuedExecutions(step.id)).toHaveLength(1)
    })

    it("the protocol spec's review_mode wins over the project's", async () => {
      const reopenProject = await project('reopen_last_step')
      const newStepRun = await finishedRun(reopenProject, 'new_step')
      expect(await reviewAndCloseWindow(newStepRun.run.protocol_name, newStepRun.run.id)).toMatchObject({
        added: expect.any(Number),
      })
      expect(await stepsOf(newStepRun.run.id)).toHaveLength(2)
      const newStepProject = await project('new_step')
      const reopenRun = await finishedRun(newStepProject, 'reopen_last_step')
      expect(await reviewAndCloseWindow(reopenRun.run.protocol_name, reopenRun.run.id)).toMatchObject({
        reopened: reopenRun.step.id,
      })
      expect(await stepsOf(reopenRun.run.id)).toHaveLength(1)
    })
  })
}
