import { createHmac, randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable, untilLockWaiter } from '../../support/databases.js'

const SECRET = 'hook-secret-42'
const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
const SHA_OLD = 'a'.repeat(40)
const SHA_NEW = 'b'.repeat(40)
/** A passed check run on the run's branch at SHA_NEW. */
const checkRunSuccess = (branch: string) => ({
  check_run: {
    conclusion: 'success',
    status: 'completed',
    head_sha: SHA_NEW,
    check_suite: { head_branch: branch },
  },
})

const databaseUrl = (api: TestApi): string => {
  const target = api.runtime.config.database
  if (target.dialect !== 'postgres') throw new Error('a Postgres test')
  return target.url
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`CI webhooks on ${dialect}`, () => {
    let api: TestApi
    let projectId: number

    const github = (
      event: string,
      payload: unknown,
      options: { delivery?: string; signature?: string; query?: string } = {},
    ) => {
      const body = JSON.stringify(payload)
      return api.server.inject({
        method: 'POST',
        url: `/webhooks/github${options.query ?? ''}`,
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': options.delivery ?? randomUUID(),
          'x-hub-signature-256': options.signature ?? sign(body),
        },
      })
    }
    const gitlab = (
      event: string,
      payload: unknown,
      headers: Record<string, string> = { 'x-gitlab-token': SECRET },
    ) =>
      api.server.inject({
        method: 'POST',
        url: '/webhooks/gitlab',
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'application/json', 'x-gitlab-event': event, ...headers },
      })

    /** A running run with one step that executed and recorded `sha`. */
    const executedRun = async (sha: string, stepStatus: 'running' | 'needs_qa' | 'completed' = 'running') => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      const step = await createStep(api, run.id, { status: stepStatus })
      await api.runtime.deps.repos.steps.update(step.id, { headSha: sha })
      return { run, step }
    }
    const runOf = async (id: number) => (await api.request('GET', `/protocols/${id}`)).json()
    const stepOf = async (id: number) => (await api.request('GET', `/steps/${id}`)).json()
    const eventsOf = async (id: number) =>
      (await api.request('GET', `/protocols/${id}/events`)).json() as Array<{
        event_type: string
        message: string
        metadata: Record<string, unknown>
      }>

    beforeAll(async () => {
      api = await openTestApi(dialect, {
        TASKSGODZILLA_WEBHOOK_TOKEN: SECRET,
        TASKSGODZILLA_API_TOKEN: 'api-token',
      })
      const created = await api.request('POST', '/projects', {
        body: { name: 'widgets', git_url: 'https://github.com/acme/widgets.git' },
        headers: { authorization: 'Bearer api-token' },
      })
      projectId = created.json().id
      // Test helpers below call the API with the bearer token.
      const request = api.request
      api = {
        ...api,
        request: (m, u, o = {}) =>
          request(m, u, { ...o, headers: { authorization: 'Bearer api-token', ...o.headers } }),
      }
    })
    afterAll(() => api.close())

    it('refuses a missing or wrong signature with 401 and records nothing, without needing the bearer token', async () => {
      const { run } = await executedRun(SHA_OLD)
      const payload = {
        workflow_run: { conclusion: 'failure', head_branch: run.protocol_name, head_sha: SHA_OLD },
      }
      expect(
        (await github('workflow_run', payload, { signature: 'sha256=' + '0'.repeat(64) })).json(),
      ).toMatchObject({ detail: 'Invalid webhook signature' })
      const body = JSON.stringify(payload)
      const upper = sign(body).toUpperCase().replace('SHA256=', 'sha256=')
      expect((await github('workflow_run', payload, { signature: upper })).statusCode).toBe(401)
      expect((await eventsOf(run.id)).some((e) => e.event_type === 'workflow_run')).toBe(false)
      const metrics = (await api.request('GET', '/metrics')).body
      expect(metrics).toMatch(/webhooks_total\{provider="github",status="unauthorized"\} [1-9]/)
    })

    it('answers 400 for malformed JSON that carries a valid signature', async () => {
      const body = '{"workflow_run":'
      const response = await api.server.inject({
        method: 'POST',
        url: '/webhooks/github',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'workflow_run',
          'x-hub-signature-256': sign(body),
        },
      })
      expect(response.statusCode).toBe(400)
    })

    it('fails the step whose commit failed, blocks the run and keeps the failure for the next attempt', async () => {
      const { run, step } = await executedRun(SHA_OLD)
      const payload = {
        action: 'completed',
        workflow_run: {
          name: 'ci',
          conclusion: 'failure',
          status: 'completed',
          head_branch: run.protocol_name,
          head_sha: SHA_OLD,
          html_url: 'https://ci/run/1',
        },
        repository: { clone_url: 'https://github.com/acme/widgets.git' },
      }
      const response = await github('workflow_run', payload)
      expect(response.json()).toEqual({ message: 'Webhook recorded', job: null })
      expect(await stepOf(step.id)).toMatchObject({
        status: 'failed',
        summary: 'CI failed',
        runtime_state: {
          ci_failure: { workflow: 'ci', url: 'https://ci/run/1', conclusion: 'failure', sha: SHA_OLD },
        },
      })
      expect((await runOf(run.id)).status).toBe('blocked')
      const events = await eventsOf(run.id)
      expect(events.map((e) => e.message)).toContain('CI failed; protocol blocked')
      expect(
        events.find((e) => e.event_type === 'workflow_run' && e.message.startsWith('GitHub webhook ')),
      ).toBeDefined()
    })

    it('ignores a late result for an older commit, and a replayed delivery', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      const payload = {
        workflow_run: { conclusion: 'failure', head_branch: run.protocol_name, head_sha: SHA_OLD },
      }
      const delivery = randomUUID()
      await github('workflow_run', payload, { delivery })
      expect((await stepOf(step.id)).status).toBe('running')
      expect((await eventsOf(run.id)).map((e) => e.event_type)).toContain('ci_result_ignored')
      const before = (await eventsOf(run.id)).length
      const replay = await github('workflow_run', payload, { delivery })
      expect(replay.json().message).toBe('Duplicate delivery ignored')
      expect((await eventsOf(run.id)).length).toBe(before)
    })

    it('completes the step on success and closes the run when every step is done', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      await github('check_run', checkRunSuccess(run.protocol_name))
      expect(await stepOf(step.id)).toMatchObject({ status: 'completed', summary: 'CI passed' })
      expect((await runOf(run.id)).status).toBe('completed')
    })

    it.skipIf(dialect !== 'postgres')(
      'applies a CI result whose transaction deadlocked with another writer on a retry, not a 409',
      async () => {
        const { run, step } = await executedRun(SHA_NEW)
        const delivery = randomUUID()
        const other = new pg.Client({ connectionString: databaseUrl(api) })
        await other.connect()
        try {
          await other.query('BEGIN')
          await other.query('SELECT id FROM protocol_runs WHERE id = $1 FOR NO KEY UPDATE', [run.id])
          const response = github('check_run', checkRunSuccess(run.protocol_name), { delivery })
          // The delivery's transaction has recorded its id and waits for the run row…
          await untilLockWaiter(async (statement) => Number((await other.query(statement)).rows[0]?.waiting))
          // …and this one closes the cycle by waiting on that id: Postgres aborts the first waiter.
          await other.query(
            `INSERT INTO webhook_deliveries (provider, delivery_id, received_at) VALUES ('github', $1, now())
             ON CONFLICT DO NOTHING`,
            [delivery],
          )
          await other.query('ROLLBACK')
          expect((await response).json()).toMatchObject({ message: 'Webhook recorded' })
        } finally {
          await other.end()
        }
        expect(await stepOf(step.id)).toMatchObject({ status: 'completed', summary: 'CI passed' })
        const replay = await github('check_run', checkRunSuccess(run.protocol_name), { delivery })
        expect(replay.json().message).toBe('Duplicate delivery ignored')
      },
    )

    it('completes a run on a merged PR once, and never revives a cancelled run', async () => {
      const { run } = await executedRun(SHA_NEW, 'completed')
      const merged = {
        action: 'closed',
        pull_request: {
          head: { ref: run.protocol_name, sha: SHA_NEW },
          number: 7,
          state: 'closed',
          merged: true,
        },
      }
      await github('pull_request', merged)
      expect((await runOf(run.id)).status).toBe('completed')
      // A second, distinct delivery about the same merge (an identical body would be a replay).
      await github('pull_request', { ...merged, sender: { login: 'second-delivery' } })
      const events = await eventsOf(run.id)
      expect(events.filter((e) => e.event_type === 'pr_merged')).toHaveLength(1)
      expect(events.map((e) => e.event_type)).toContain('merge_ignored')

      const cancelled = await createProtocol(api, projectId, { status: 'cancelled' })
      await github('pull_request', {
        pull_request: { head: { ref: cancelled.protocol_name }, number: 8, merged: true },
      })
      expect((await runOf(cancelled.id)).status).toBe('cancelled')
    })

    it('maps refs/heads/feature/<name> to the run, refuses other repositories, and answers ping', async () => {
      const { run } = await executedRun(SHA_NEW)
      const push = await github('push', { ref: `refs/heads/feature/${run.protocol_name}`, after: SHA_NEW })
      expect(push.statusCode).toBe(200)
      expect((await eventsOf(run.id)).map((e) => e.event_type)).toContain('push')
      const foreign = await github('push', {
        ref: `refs/heads/${run.protocol_name}`,
        repository: { clone_url: 'https://github.com/other/repo.git' },
      })
      expect(foreign.statusCode).toBe(404)
      expect((await github('ping', { zen: 'hi' })).json().message).toBe('pong')
    })

    it('authenticates GitLab by token (and optional HMAC) and applies a reporter pipeline to the step executed last', async () => {
      const { run, step } = await executedRun(SHA_NEW)
      const payload = {
        object_kind: 'pipeline',
        object_attributes: { status: 'failed', ref: run.protocol_name },
      }
      expect((await gitlab('Pipeline Hook', payload, {})).json().detail).toBe('Invalid webhook token')
      expect((await gitlab('Pipeline Hook', payload, { 'x-gitlab-token': 'nope' })).statusCode).toBe(401)
      const badHmac = await gitlab('Pipeline Hook', payload, {
        'x-gitlab-token': SECRET,
        'x-gitlab-signature-256': 'sha256=' + '1'.repeat(64),
      })
      expect(badHmac.json().detail).toBe('Invalid webhook signature')
      expect((await gitlab('Pipeline Hook', payload)).statusCode).toBe(200)
      expect((await stepOf(step.id)).status).toBe('failed')
      expect((await runOf(run.id)).status).toBe('blocked')
    })

    it('completes a run on a merged GitLab MR with mr_merged', async () => {
      const { run } = await executedRun(SHA_NEW, 'completed')
      await gitlab('Merge Request Hook', {
        object_kind: 'merge_request',
        object_attributes: { state: 'merged', source_branch: run.protocol_name, iid: 11 },
      })
      expect((await runOf(run.id)).status).toBe('completed')
      expect((await eventsOf(run.id)).map((e) => e.event_type)).toEqual(
        expect.arrayContaining(['merge_request', 'mr_merged']),
      )
    })

    it('enqueues QA on CI success when auto QA is on', async () => {
      const auto = await openTestApi(dialect, {
        TASKSGODZILLA_WEBHOOK_TOKEN: SECRET,
        TASKSGODZILLA_AUTO_QA_ON_CI: 'true',
      })
      try {
        const project = await createProject(auto)
        const run = await createProtocol(auto, project.id, { status: 'running' })
        const step = await createStep(auto, run.id, { status: 'running' })
        await auto.runtime.deps.repos.steps.update(step.id, { headSha: SHA_NEW })
        const body = JSON.stringify({
          workflow_run: { conclusion: 'success', head_branch: run.protocol_name, head_sha: SHA_NEW },
        })
        await auto.server.inject({
          method: 'POST',
          url: '/webhooks/github',
          payload: body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'workflow_run',
            'x-hub-signature-256': sign(body),
          },
        })
        expect((await auto.request('GET', `/steps/${step.id}`)).json()).toMatchObject({
          status: 'needs_qa',
          summary: 'CI passed; running QA',
        })
        const events = (
          await auto.request('GET', `/protocols/${run.id}/events?event_type=qa_enqueued`)
        ).json()
        expect(events).toMatchObject([
          {
            message: 'QA enqueued after CI success.',
            metadata: { source: 'ci_webhook', provider: 'github' },
          },
        ])
      } finally {
        await auto.close()
      }
    })
  })
}

describe('webhooks without any secret', () => {
  it('are refused unless unsigned webhooks are explicitly allowed', async () => {
    const closed = await openTestApi('sqlite')
    const open = await openTestApi('sqlite', { TASKSGODZILLA_WEBHOOK_ALLOW_UNSIGNED: 'true' })
    try {
      const send = (api: TestApi) =>
        api.server.inject({
          method: 'POST',
          url: '/webhooks/github',
          payload: '{}',
          headers: { 'content-type': 'application/json', 'x-github-event': 'ping' },
        })
      expect((await send(closed)).statusCode).toBe(401)
      expect((await send(open)).json().message).toBe('pong')
    } finally {
      await closed.close()
      await open.close()
    }
  })
})
