import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const TEMPLATES = [
  '/projects',
  '/projects/{id}',
  '/projects/{id}/protocols',
  '/projects/{id}/clarifications',
  '/protocols/{id}',
  '/protocols/{id}/spec',
  '/protocols/{id}/steps',
  '/protocols/{id}/events',
  '/protocols/{id}/actions/{action}',
  '/steps/{id}',
  '/steps/{id}/actions/{action}',
  '/events',
  '/queues',
  '/queues/jobs',
  '/specs/audit',
  '/health',
]
const ACTIONS = [
  'start',
  'pause',
  'resume',
  'cancel',
  'run_next_step',
  'retry_latest',
  'open_pr',
  'run',
  'run_qa',
  'approve',
  'x',
]
const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const

const segment = fc.oneof(
  fc.integer({ min: -5, max: 12 }).map(String),
  fc.constantFrom('0', '99999999999999999999', 'abc', '%00', '..', '1.5', '-1', '%2e%2e'),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
)
const query = fc.option(
  fc.dictionary(
    fc.constantFrom('limit', 'project_id', 'status', 'since', 'before_id', 'event_type', 'x'),
    segment,
  ),
  { nil: undefined },
)
const body = fc.oneof(
  fc.constant(undefined),
  fc.json().map((text) => ({ raw: text })),
  fc.string({ maxLength: 40 }).map((text) => ({ raw: text })),
  fc.record(
    {
      name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      git_url: fc.oneof(fc.string(), fc.constant(null)),
      protocol_name: fc.oneof(fc.string(), fc.constantFrom('0001-ok', '../x', '-oX')),
      step_index: fc.oneof(fc.integer(), fc.string(), fc.double()),
      step_name: fc.string(),
      step_type: fc.string(),
      status: fc.oneof(fc.string(), fc.constantFrom('pending', 'running', 'completed')),
      policy: fc.oneof(fc.anything(), fc.array(fc.object())),
      answers: fc.anything(),
      backfill: fc.anything(),
      api_token: fc.oneof(fc.string(), fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
)
const request = fc.record({
  method: fc.constantFrom(...METHODS),
  template: fc.constantFrom(...TEMPLATES),
  id: segment,
  action: fc.constantFrom(...ACTIONS),
  query,
  body,
  token: fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.constant('fuzz-token-1')), { nil: undefined }),
  requestId: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
})

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`API robustness on ${dialect}`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect)
      const project = await createProject(api, { secrets: { api_token: 'fuzz-token-1' } })
      const h = { 'x-project-token': 'fuzz-token-1' }
      for (let i = 0; i < 3; i++) {
        const run = await createProtocol(api, project.id, { status: i === 0 ? 'running' : 'pending' }, h)
        await createStep(api, run.id, { status: 'failed' }, h)
      }
      await createProject(api)
    })
    afterAll(() => api.close())

    /** Changes whenever any row is added, removed or updated. */
    const fingerprint = async (): Promise<string> => {
      const { rows } = await sql<{ v: string }>`
        select (select count(*) from projects) || ':' || (select count(*) from protocol_runs) || ':' ||
               (select count(*) from step_runs) || ':' || (select count(*) from events) || ':' ||
               (select count(*) from jobs) || ':' || coalesce((select cast(max(updated_at) as text) from protocol_runs), '') || ':' ||
               coalesce((select cast(max(updated_at) as text) from step_runs), '') || ':' ||
               coalesce((select cast(max(updated_at) as text) from projects), '') as v`.execute(
        api.runtime.database.db,
      )
      return String(rows[0]?.v)
    }

    it('answers 422 for ids past the 32-bit range in queries instead of failing in the database', async () => {
      for (const url of ['/events?project_id=99999999999999999999', '/events?project_id=2147483648']) {
        const response = await api.server.inject({ method: 'GET', url })
        expect(response.statusCode, `${url} → ${response.body}`).toBe(422)
      }
    })

    it('never answers 5xx and never changes a row on a 4xx, whatever it is sent', async () => {
      const runs = dialect === 'sqlite' ? 2000 : 800
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const path = r.template.replace('{id}', r.id).replace('{action}', r.action)
          const qs = r.query ? `?${new URLSearchParams(r.query as Record<string, string>).toString()}` : ''
          const headers: Record<string, string> = {}
          if (r.token !== undefined) headers['x-project-token'] = r.token
          if (r.requestId !== undefined) headers['x-request-id'] = r.requestId.replace(/[\r\n]/g, '')
          const payload = r.body === undefined ? undefined : 'raw' in r.body ? r.body.raw : r.body
          const before = await fingerprint()
          const response = await api.server.inject({
            method: r.method,
            url: path + qs,
            headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
            payload: typeof payload === 'string' || payload === undefined ? payload : JSON.stringify(payload),
          })
          expect(response.statusCode, `${r.method} ${path}${qs} → ${response.body}`).toBeLessThan(500)
          if (response.statusCode >= 400) expect(await fingerprint(), `${r.method} ${path}`).toBe(before)
        }),
        { numRuns: runs },
      )
    }, 180_000)
  })
}
