import { createHmac, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProtocol, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const SECRET = 'push-secret'
const PUSH = readFileSync(new URL('../../fixtures/webhooks/github-push-base.json', import.meta.url), 'utf8')
const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`base-branch push webhooks on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    const push = (body: string, signature = sign(body)) =>
      api.server.inject({
        method: 'POST',
        url: '/webhooks/github',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': signature,
        },
      })
    const syncJobs = async (runId: number) =>
      (await api.runtime.deps.repos.jobs.list({ limit: 100 })).filter(
        (j) => j.type === 'base_sync_job' && j.payload.protocol_run_id === runId,
      )

    beforeAll(async () => {
      api = await openTestApi(dialect)
      const created = await api.request('POST', '/projects', {
        body: { name: `w-${randomUUID().slice(0, 6)}`, git_url: 'https://github.com/acme/widgets.git' },
      })
      projectId = created.json().id
      await api.runtime.deps.repos.projects.update(projectId, { secrets: { webhook_secret: SECRET } })
    })
    afterAll(() => api.close())

    it('enqueues one base sync per run with an open PR on that base, and a replay enqueues nothing more', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      await api.runtime.deps.repos.runs.update(run.id, { prNumber: 7 })
      const first = await push(PUSH)
      expect(first.statusCode).toBe(200)
      expect(first.json().message).toMatch(/^Base branch main moved; 1 run/)
      expect(await syncJobs(run.id)).toHaveLength(1)
      const events = (await api.request('GET', `/protocols/${run.id}/events`)).json() as Array<{
        event_type: string
      }>
      expect(events.map((e) => e.event_type)).toContain('base_branch_moved')
      expect((await push(PUSH)).json().message).toBe('Duplicate delivery ignored')
      expect(await syncJobs(run.id)).toHaveLength(1)
    })

    it('refuses an unsigned base push with 401 and enqueues nothing', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      await api.runtime.deps.repos.runs.update(run.id, { prNumber: 8 })
      const body = PUSH.replace('2222222222222222222222222222222222222222', '3'.repeat(40))
      expect((await push(body, sign(body, 'guess'))).statusCode).toBe(401)
      expect(await syncJobs(run.id)).toHaveLength(0)
    })
  })
}
