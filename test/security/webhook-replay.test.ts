import { createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { candidateSecrets } from '../../src/app/webhooks/webhook-candidates.js'
import type { CiNotice } from '../../src/domain/ci-notice.js'
import { createProject, createProtocol, openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'

// Issue 15 #10: replay protection keyed on the optional, unsigned X-GitHub-Delivery header, and
// an unauthenticated delivery was checked against every project's secret (one HMAC per project).
const sign = (body: string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
const notice = (repositoryUrls: string[], branch: string | null = null): CiNotice => ({
  provider: 'github',
  event: 'push',
  action: '',
  branch,
  sha: null,
  conclusion: null,
  status: null,
  prNumber: null,
  checkName: null,
  merged: false,
  repositoryUrls,
  details: {},
})

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`webhook replay and secret narrowing (${dialect})`, () => {
    let api: TestApi
    const projects: Array<{ id: number; secret: string; repo: string }> = []
    beforeAll(async () => {
      api = await openTestApi(dialect, { TASKSGODZILLA_WEBHOOK_TOKEN: 'global-hook-secret' })
      for (let i = 0; i < 12; i++) {
        const repo = `https://github.com/acme/service-${i}-${dialect}`
        const secret = `project-secret-${i}`
        const { id } = await createProject(api, {
          git_url: `${repo}.git`,
          secrets: { webhook_secret: secret },
        })
        projects.push({ id, secret, repo })
      }
    })
    afterAll(async () => api?.close())

    const deliver = (body: string, secret: string, delivery?: string) =>
      api.server.inject({
        method: 'POST',
        url: '/webhooks/github',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': sign(body, secret),
          ...(delivery === undefined ? {} : { 'x-github-delivery': delivery }),
        },
      })
    const pushEvents = async (runId: number) =>
      (
        (await api.request('GET', `/protocols/${runId}/events`)).json() as Array<{ event_type: string }>
      ).filter((event) => event.event_type === 'push')

    it('ignores a signed delivery replayed with a new delivery id, or none', async () => {
      const target = projects[3]!
      const run = await createProtocol(api, target.id, { status: 'running' })
      const body = JSON.stringify({
        ref: `refs/heads/${run.protocol_name}`,
        after: 'c'.repeat(40),
        repository: { clone_url: `${target.repo}.git` },
      })
      const first = await deliver(body, target.secret, randomUUID())
      expect(first.json()).toMatchObject({ message: 'Webhook recorded' })
      for (const delivery of [randomUUID(), undefined]) {
        const replay = await deliver(body, target.secret, delivery)
        expect(replay.statusCode).toBe(200)
        expect(replay.json()).toMatchObject({ message: 'Duplicate delivery ignored' })
      }
      expect(await pushEvents(run.id)).toHaveLength(1)
    })

    it('tries only the global secret and the secrets of projects the payload names', async () => {
      const { repos } = api.runtime.deps
      const byRepository = await candidateSecrets(
        repos,
        { notice: notice([`${projects[5]!.repo}.git`]), protocolRunId: undefined },
        'g',
      )
      expect(byRepository.secrets.map((s) => s.projectId)).toEqual([null, projects[5]!.id])
      const run = await createProtocol(api, projects[8]!.id)
      const byBranch = await candidateSecrets(
        repos,
        { notice: notice([], run.protocol_name), protocolRunId: undefined },
        'g',
      )
      expect(byBranch.secrets.map((s) => s.projectId)).toEqual([null, projects[8]!.id])
      const byRun = await candidateSecrets(repos, { notice: undefined, protocolRunId: run.id }, undefined)
      expect(byRun.secrets.map((s) => s.projectId)).toEqual([projects[8]!.id])
      const nothing = await candidateSecrets(
        repos,
        { notice: notice(['https://github.com/x/unknown']), protocolRunId: undefined },
        'g',
      )
      expect(nothing.secrets.map((s) => s.projectId)).toEqual([null])
    })

    it("refuses a delivery signed with one project's secret that claims another project's repository", async () => {
      const victim = projects[1]!
      const run = await createProtocol(api, victim.id, { status: 'running' })
      const body = JSON.stringify({
        ref: `refs/heads/${run.protocol_name}`,
        repository: { clone_url: `${victim.repo}.git` },
      })
      const forged = await deliver(body, projects[2]!.secret, randomUUID())
      expect(forged.statusCode).toBe(401)
      expect(await pushEvents(run.id)).toHaveLength(0)
      expect((await deliver(body, victim.secret, randomUUID())).json()).toMatchObject({
        message: 'Webhook recorded',
      })
    })
  })
}
