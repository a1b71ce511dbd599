import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const SECRET = 'gitlab-job-secret'
const SHA_OLD = 'd'.repeat(40)
const SHA_NEW = 'e'.repeat(40)
/** GitLab's documented Job Hook payload (object_kind `build`), for the project acme/widgets. */
const JOB_HOOK = JSON.parse(
  readFileSync(new URL('../../fixtures/webhooks/gitlab-job-hook.json', import.meta.url), 'utf8'),
) as Record<string, unknown>

const jobHook = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  ...JOB_HOOK,
  ...overrides,
})

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`GitLab Job Hook deliveries on ${dialect}`, () => {
    let api: TestApi
    let projectId: number

    /** Sends a Job Hook authenticated by token and signed with GitLab's optional HMAC header. */
    const deliver = (payload: unknown, event = 'Job Hook') => {
      const body = JSON.stringify(payload)
      return api.server.inject({
        method: 'POST',
        url: '/webhooks/gitlab',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-gitlab-event': event,
          'x-gitlab-event-uuid': randomUUID(),
          'x-gitlab-token': SECRET,
          'x-gitlab-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      })
    }
    const executedRun = async (sha: string) => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      const step = await createStep(api, run.id, { status: 'running' })
      await api.runtime.deps.repos.steps.update(step.id, { headSha: sha })
      return { run, step }
    }
    const stepOf = async (id: number) => (await api.request('GET', `/steps/${id}`)).json()
    const runOf = async (id: number) => (await api.request('GET', `/protocols/${id}`)).json()
    const eventsOf = async (id: number) =>
      (await api.request('GET', `/protocols/${id}/events`)).json() as Array<{
        event_type: string
        message: string
        metadata: Record<string, unknown>
      }>

    beforeAll(async () => {
      api = await openTestApi(dialect, { TASKSGODZILLA_WEBHOOK_TOKEN: SECRET })
      const created = await api.request('POST', '/projects', {
        body: {
          name: `widgets-${randomUUID().slice(0, 6)}`,
          git_url: 'https://gitlab.example.com/acme/widgets.git',
        },
      })
      projectId = created.json().id
    })
    afterAll(() => api.close())

    it('fails the step on a failed job at its commit, keeping job name, stage, reason and job URL', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      const reply = await deliver(jobHook({ ref: run.protocol_name, sha: SHA_NEW }))
      expect(reply.json()).toMatchObject({ message: 'Webhook recorded' })
      expect(await stepOf(step.id)).toMatchObject({
        status: 'failed',
        summary: 'CI failed',
        runtime_state: {
          ci_failure: {
            provider: 'gitlab',
            event: 'build',
            sha: SHA_NEW,
            job: 'unit-tests',
            stage: 'test',
            failure_reason: 'script_failure',
            pipeline_id: 977,
            status: 'failed',
            url: 'https://gitlab.example.com/acme/widgets/-/jobs/4021',
          },
        },
      })
      expect((await runOf(run.id)).status).toBe('blocked')
      const messages = (await eventsOf(run.id)).filter((e) => e.event_type === 'build').map((e) => e.message)
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringContaining(`GitLab webhook build status=failed ref=${run.protocol_name}`),
          'CI failed; protocol blocked',
        ]),
      )
    })

    it('applies running and success jobs like pipelines: CI running, then the step completed', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      await deliver(jobHook({ ref: run.protocol_name, sha: SHA_NEW, build_status: 'running' }))
      expect(await stepOf(step.id)).toMatchObject({ status: 'running', summary: 'CI running' })
      await deliver(
        jobHook({
          ref: run.protocol_name,
          sha: SHA_NEW,
          build_status: 'success',
          build_failure_reason: null,
        }),
        'Build Hook',
      )
      expect(await stepOf(step.id)).toMatchObject({ status: 'completed', summary: 'CI passed' })
    })

    it('changes nothing for a job allowed to fail, a job of an older commit, or a tag', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      await deliver(jobHook({ ref: run.protocol_name, sha: SHA_NEW, build_allow_failure: true }))
      await deliver(jobHook({ ref: run.protocol_name, sha: SHA_OLD }))
      expect(await stepOf(step.id)).toMatchObject({ status: 'running' })
      expect((await runOf(run.id)).status).toBe('running')
      expect((await eventsOf(run.id)).map((e) => e.event_type)).toEqual(
        expect.arrayContaining(['build', 'ci_result_ignored']),
      )
      const tag = await deliver(jobHook({ ref: run.protocol_name, sha: SHA_NEW, tag: true }))
      expect(tag.statusCode).toBe(404)
      expect(await stepOf(step.id)).toMatchObject({ status: 'running' })
    })
  })
}
