import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

type Method = 'GET' | 'POST' | 'PATCH'
interface Route {
  readonly method: Method
  readonly url: string
  readonly body?: unknown
}

const API_TOKEN = 'api-token-for-tests'
const PROJECT_TOKEN = 'project-token-p1'
const bearer = { authorization: `Bearer ${API_TOKEN}` }

const projectScopedRoutes = (p: number, r: number, s: number): Route[] => [
  { method: 'GET', url: `/projects/${p}` },
  { method: 'PATCH', url: `/projects/${p}`, body: { name: 'renamed' } },
  { method: 'POST', url: `/projects/${p}/clarifications`, body: { answers: { ci_provider: 'github' } } },
  { method: 'GET', url: `/projects/${p}/protocols` },
  { method: 'GET', url: `/projects/${p}/branches` },
  { method: 'POST', url: `/projects/${p}/branches/feature-x/delete`, body: { confirm: true } },
  {
    method: 'POST',
    url: `/projects/${p}/codemachine/import`,
    body: { protocol_name: '0778-auth-cm', workspace_path: '/nonexistent-workspace' },
  },
  { method: 'POST', url: `/projects/${p}/protocols`, body: { protocol_name: '0777-auth-check' } },
  { method: 'GET', url: `/protocols/${r}` },
  { method: 'GET', url: `/protocols/${r}/spec` },
  { method: 'GET', url: `/protocols/${r}/steps` },
  {
    method: 'POST',
    url: `/protocols/${r}/steps`,
    body: { step_index: 9, step_name: '09-auth', step_type: 'work' },
  },
  { method: 'GET', url: `/protocols/${r}/events` },
  ...['start', 'pause', 'resume', 'cancel', 'run_next_step', 'retry_latest', 'open_pr', 'trigger_ci'].map(
    (action): Route => ({ method: 'POST', url: `/protocols/${r}/actions/${action}` }),
  ),
  { method: 'GET', url: `/steps/${s}` },
  { method: 'GET', url: `/steps/${s}/logs` },
  ...['run', 'run_qa', 'approve'].map((action): Route => ({
    method: 'POST',
    url: `/steps/${s}/actions/${action}`,
  })),
  { method: 'GET', url: `/events?project_id=${p}` },
  { method: 'GET', url: `/events?protocol_run_id=${r}` },
  { method: 'GET', url: `/queues/jobs?project_id=${p}` },
  { method: 'POST', url: '/specs/audit', body: { project_id: p } },
  { method: 'POST', url: '/specs/audit', body: { protocol_id: r } },
  { method: 'GET', url: `/events/stream?project_id=${p}` },
]

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`authentication and project scoping on ${dialect}`, () => {
    let api: TestApi
    let routes: Route[]
    let ids: { p: number; r: number; s: number; other: number }

    const snapshot = async () => {
      const h = { ...bearer, 'x-project-token': PROJECT_TOKEN }
      const run = (await api.request('GET', `/protocols/${ids.r}`, { headers: h })).json()
      const step = (await api.request('GET', `/steps/${ids.s}`, { headers: h })).json()
      const events = (
        await api.request('GET', `/events?project_id=${ids.p}&limit=1000`, { headers: h })
      ).json()
      const project = (await api.request('GET', `/projects/${ids.p}`, { headers: h })).json()
      return JSON.stringify([run.status, step.status, events.length, project.name, project.clarifications])
    }

    beforeAll(async () => {
      api = await openTestApi(dialect, { TASKSGODZILLA_API_TOKEN: API_TOKEN })
      const p = await createProject(api, { secrets: { api_token: PROJECT_TOKEN } }, bearer)
      const h = { ...bearer, 'x-project-token': PROJECT_TOKEN }
      const r = await createProtocol(api, p.id, { status: 'running' }, h)
      const s = await createStep(api, r.id, { status: 'failed' }, h)
      const other = await createProject(api, {}, bearer)
      ids = { p: p.id, r: r.id, s: s.id, other: other.id }
      routes = projectScopedRoutes(p.id, r.id, s.id)
    })
    afterAll(() => api.close())

    it('refuses every non-exempt route without the bearer token, before parsing the body', async () => {
      for (const route of [
        ...routes,
        { method: 'GET' as const, url: '/projects' },
        { method: 'GET' as const, url: '/queues' },
      ]) {
        const response = await api.request(route.method, route.url, { body: route.body })
        expect(response.statusCode, `${route.method} ${route.url}`).toBe(401)
        expect(response.json()).toMatchObject({ detail: 'Unauthorized' })
      }
      const malformed = await api.request('POST', '/projects', { body: '{"name":' })
      expect(malformed.statusCode).toBe(401)
      const wrongScheme = await api.request('GET', '/projects', {
        headers: { authorization: `Basic ${API_TOKEN}` },
      })
      expect(wrongScheme.statusCode).toBe(401)
      const wrongToken = await api.request('GET', '/projects', { headers: { authorization: 'Bearer nope' } })
      expect(wrongToken.statusCode).toBe(401)
    })

    it('accepts the bearer token case-insensitively and leaves /health and /metrics open', async () => {
      expect(
        (await api.request('GET', '/projects', { headers: { authorization: `bearer   ${API_TOKEN}` } }))
          .statusCode,
      ).toBe(200)
      expect((await api.request('GET', '/health')).statusCode).toBe(200)
      expect((await api.request('GET', '/metrics')).statusCode).toBe(200)
      expect((await api.request('GET', '/openapi.json')).statusCode).toBe(401)
      const malformed = await api.request('POST', '/projects', { body: '{"name":', headers: bearer })
      expect(malformed.statusCode).toBe(400)
    })

    it('answers 401 without the project token and 403 with a wrong one on every project-scoped route, changing nothing', async () => {
      const before = await snapshot()
      for (const route of routes) {
        const label = `${route.method} ${route.url}`
        const missing = await api.request(route.method, route.url, { body: route.body, headers: bearer })
        expect(missing.statusCode, `${label} without token: ${missing.body}`).toBe(401)
        const wrong = await api.request(route.method, route.url, {
          body: route.body,
          headers: { ...bearer, 'x-project-token': 'not-the-token' },
        })
        expect(wrong.statusCode, `${label} with a wrong token`).toBe(403)
        expect(wrong.body).not.toContain('running')
      }
      expect(await snapshot()).toBe(before)
    })

    it('lets the right project token through every project-scoped read', async () => {
      const h = { ...bearer, 'x-project-token': PROJECT_TOKEN }
      for (const route of routes.filter((r) => r.method === 'GET' && !/\/stream|\/branches/.test(r.url))) {
        const response = await api.request(route.method, route.url, { headers: h })
        expect(response.statusCode, route.url).toBe(200)
      }
    })

    it('hides a protected project from unfiltered event and job listings unless its token is presented', async () => {
      // Another protected project: one project's token must not open it.
      const second = await createProject(api, { secrets: { api_token: 'project-token-p2' } }, bearer)
      const anonymousEvents = (await api.request('GET', '/events?limit=1000', { headers: bearer })).json()
      expect(anonymousEvents.some((e: { project_id: number }) => e.project_id === ids.p)).toBe(false)
      expect(anonymousEvents.some((e: { project_id: number }) => e.project_id === ids.other)).toBe(true)
      const withToken = (
        await api.request('GET', '/events?limit=1000', {
          headers: { ...bearer, 'x-project-token': PROJECT_TOKEN },
        })
      ).json()
      expect(withToken.some((e: { project_id: number }) => e.project_id === ids.p)).toBe(true)
      expect(withToken.some((e: { project_id: number }) => e.project_id === ids.other)).toBe(true)
      expect(withToken.some((e: { project_id: number }) => e.project_id === second.id)).toBe(false)
      const secondsToken = (
        await api.request('GET', '/events?limit=1000', {
          headers: { ...bearer, 'x-project-token': 'project-token-p2' },
        })
      ).json()
      expect(secondsToken.some((e: { project_id: number }) => e.project_id === second.id)).toBe(true)
      const wrongToken = (
        await api.request('GET', '/events?limit=1000', {
          headers: { ...bearer, 'x-project-token': 'not-the-token' },
        })
      ).json()
      expect(wrongToken.some((e: { project_id: number }) => e.project_id === ids.p)).toBe(false)
      expect(wrongToken.some((e: { project_id: number }) => e.project_id === ids.other)).toBe(true)
      const jobs = (await api.request('GET', '/queues/jobs', { headers: bearer })).json()
      expect(jobs.some((j: { payload: { project_id?: number } }) => j.payload.project_id === ids.p)).toBe(
        false,
      )
    })

    it('refuses an empty listing of a protected project or run as it refuses a full one', async () => {
      // A listing is authorized by the token hash read with its rows; these have no rows to carry it.
      const h = { ...bearer, 'x-project-token': PROJECT_TOKEN }
      const emptyRun = await createProtocol(api, ids.p, {}, h)
      const newest = 2_147_483_647
      for (const url of [
        `/projects/${ids.p}/protocols?after_id=${newest}`,
        `/protocols/${emptyRun.id}/steps`,
        `/protocols/${ids.r}/events?after_id=${newest}`,
        `/events?protocol_run_id=${ids.r}&event_type=no-such-type`,
        `/events?project_id=${ids.p}&event_type=no-such-type`,
      ]) {
        expect((await api.request('GET', url, { headers: bearer })).statusCode, url).toBe(401)
        const wrong = { ...bearer, 'x-project-token': 'not-the-token' }
        expect((await api.request('GET', url, { headers: wrong })).statusCode, url).toBe(403)
        const allowed = await api.request('GET', url, { headers: h })
        expect(allowed.statusCode, url).toBe(200)
        expect(allowed.json(), url).toEqual([])
      }
    })

    it('answers 404 for a listing of an unknown project or run, full or empty', async () => {
      for (const url of [
        '/projects/999999/protocols',
        '/protocols/999999/steps',
        '/protocols/999999/events',
        '/events?protocol_run_id=999999',
        '/events?project_id=999999',
      ]) {
        const response = await api.request('GET', url, { headers: bearer })
        expect(response.statusCode, url).toBe(404)
      }
    })

    it('answers 404 for unknown ids before any token question', async () => {
      expect((await api.request('GET', '/projects/999999', { headers: bearer })).statusCode).toBe(404)
      expect((await api.request('GET', '/protocols/999999', { headers: bearer })).statusCode).toBe(404)
      expect((await api.request('POST', '/steps/999999/actions/run', { headers: bearer })).statusCode).toBe(
        404,
      )
    })
  })
}
