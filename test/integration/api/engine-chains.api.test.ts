import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const firstMessage = (body: { detail: { msg: string; loc: string[] }[] }) => body.detail[0]!

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`engine chains in the API on ${dialect}`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect)
    })
    afterAll(() => api.close())

    it('stores a project chain on create, shows it on get, replaces it on patch and clears it with null', async () => {
      const project = await createProject(api, {
        engines: [{ engine: 'codex', model: 'gpt-5.1-codex' }, { engine: 'claude' }],
      })
      const read = (await api.request('GET', `/projects/${project.id}`)).json()
      expect(read.engines).toEqual([
        { engine: 'codex', model: 'gpt-5.1-codex' },
        { engine: 'claude', model: null },
      ])
      const patched = await api.request('PATCH', `/projects/${project.id}`, {
        body: { engines: [{ engine: 'opencode', model: 'anthropic/claude-sonnet-4' }] },
      })
      expect(patched.json().engines).toEqual([{ engine: 'opencode', model: 'anthropic/claude-sonnet-4' }])
      const untouched = await api.request('PATCH', `/projects/${project.id}`, {
        body: { ci_provider: 'github' },
      })
      expect(untouched.json().engines).toHaveLength(1)
      const cleared = await api.request('PATCH', `/projects/${project.id}`, { body: { engines: null } })
      expect(cleared.json().engines).toBeNull()
      expect((await api.request('GET', `/projects/${project.id}`)).json().engines).toBeNull()
    })

    it.each([
      [[{ engine: 'codex' }, { engine: 'gemini' }], 'engines[1]: engine "gemini" is not a registered engine'],
      [[{ engine: 'claude', model: '--dangerously-skip-permissions' }], 'engines[0]: Model name'],
      [[{ engine: 'claude', model: 'a b' }], 'must not contain whitespace'],
      [[], 'engines must be a list of 1 to 5'],
      [Array.from({ length: 6 }, () => ({ engine: 'codex' })), 'engines must be a list of 1 to 5'],
    ])('refuses a bad project chain with 422 naming the entry (%j)', async (engines, message) => {
      const created = await api.request('POST', '/projects', {
        body: { name: `bad-${Math.random().toString(36).slice(2, 8)}`, git_url: '/srv/repos/demo', engines },
      })
      expect(created.statusCode).toBe(422)
      expect(firstMessage(created.json()).msg).toContain(message)
      const project = await createProject(api)
      const patched = await api.request('PATCH', `/projects/${project.id}`, { body: { engines } })
      expect(patched.statusCode).toBe(422)
      expect(firstMessage(patched.json()).msg).toContain(message)
      expect((await api.request('GET', `/projects/${project.id}`)).json().engines).toBeNull()
      const listed = (await api.request('GET', '/projects?limit=500')).json() as { name: string }[]
      expect(listed.some((p) => p.name.startsWith('bad-'))).toBe(false)
    })

    it('refuses a chain entry with an unknown key', async () => {
      const project = await createProject(api)
      const reply = await api.request('PATCH', `/projects/${project.id}`, {
        body: { engines: [{ engine: 'codex', model: null, fallback: 'x' }] },
      })
      expect(reply.statusCode).toBeGreaterThanOrEqual(400)
      expect(reply.statusCode).toBeLessThan(500)
    })

    it('stores a chain on an API-created step and refuses a bad one with 422', async () => {
      const project = await createProject(api)
      const run = (
        await api.request('POST', `/projects/${project.id}/protocols`, {
          body: { protocol_name: '0001-chain' },
        })
      ).json()
      const ok = await api.request('POST', `/protocols/${run.id}/steps`, {
        body: { step_index: 0, step_name: '00-a.md', step_type: 'work', engines: [{ engine: 'claude' }] },
      })
      expect(ok.statusCode).toBe(200)
      expect(ok.json().engines).toEqual([{ engine: 'claude', model: null }])
      const bad = await api.request('POST', `/protocols/${run.id}/steps`, {
        body: { step_index: 1, step_name: '01-b.md', step_type: 'work', engines: [{ engine: 'nope' }] },
      })
      expect(bad.statusCode).toBe(422)
      expect(firstMessage(bad.json())).toMatchObject({ loc: ['body', 'engines.0'] })
      expect(firstMessage(bad.json()).msg).toContain('engines[0]: engine "nope"')
      const steps = (await api.request('GET', `/protocols/${run.id}/steps`)).json() as unknown[]
      expect(steps).toHaveLength(1)
    })

    it("refuses a protocol whose spec names a bad chain, at the protocol or a step's level", async () => {
      const project = await createProject(api)
      const spec = (engines: unknown, stepEngines: unknown) => ({
        protocol_spec: {
          engines,
          steps: [
            {
              id: '00-a',
              engine_id: null,
              prompt_ref: '00-a.md',
              qa: { policy: 'skip' },
              engines: stepEngines,
            },
          ],
        },
      })
      const stepLevel = await api.request('POST', `/projects/${project.id}/protocols`, {
        body: { protocol_name: '0001-spec', template_config: spec(null, [{ engine: 'codex', model: '-x' }]) },
      })
      expect(stepLevel.statusCode).toBe(422)
      expect(firstMessage(stepLevel.json()).msg).toContain('template_config.protocol_spec.steps.0.engines[0]')
      const protocolLevel = await api.request('POST', `/projects/${project.id}/protocols`, {
        body: { protocol_name: '0002-spec', template_config: spec([{ engine: 'ghost' }], null) },
      })
      expect(protocolLevel.statusCode).toBe(422)
      expect(firstMessage(protocolLevel.json()).msg).toContain('template_config.protocol_spec.engines[0]')
      const fine = await api.request('POST', `/projects/${project.id}/protocols`, {
        body: {
          protocol_name: '0003-spec',
          template_config: spec([{ engine: 'codex' }], [{ engine: 'claude' }]),
        },
      })
      expect(fine.statusCode).toBe(200)
    })
  })
}
