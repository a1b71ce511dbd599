import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`projects API on ${dialect}`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect)
    })
    afterAll(() => api.close())

    it('creates a project with its setup run, setup_enqueued event and setup job, and never echoes secrets', async () => {
      const response = await api.request('POST', '/projects', {
        body: {
          name: 'demo',
          git_url: '/srv/repos/demo',
          secrets: { api_token: 'proj-secret-1', hook: 'h00k' },
        },
        headers: { 'x-request-id': 'create-req-1' },
      })
      expect(response.statusCode).toBe(200)
      const project = response.json()
      expect(project).toMatchObject({
        name: 'demo',
        base_branch: 'main',
        local_path: null,
        has_api_token: true,
      })
      expect(project.created_at).toMatch(/Z$/)
      expect(response.body).not.toContain('proj-secret-1')
      expect(response.body).not.toContain('h00k')
      const headers = { 'x-project-token': 'proj-secret-1' }
      const runs = (await api.request('GET', `/projects/${project.id}/protocols`, { headers })).json()
      expect(runs).toMatchObject([
        {
          protocol_name: `setup-${project.id}`,
          status: 'pending',
          description: 'Project setup and bootstrap',
        },
      ])
      const events = (await api.request('GET', `/protocols/${runs[0].id}/events`, { headers })).json()
      expect(events).toMatchObject([
        {
          event_type: 'setup_enqueued',
          message: 'Project setup enqueued.',
          metadata: { request_id: 'create-req-1' },
        },
      ])
      const jobs = (await api.request('GET', `/queues/jobs?project_id=${project.id}`, { headers })).json()
      expect(jobs).toMatchObject([
        {
          job_type: 'project_setup_job',
          payload: { project_id: project.id, protocol_run_id: runs[0].id, request_id: 'create-req-1' },
        },
      ])
    })

    it('lists projects newest first without secret values', async () => {
      const a = await createProject(api, { secrets: { api_token: 'tok-a-123456' } })
      const b = await createProject(api)
      const headers = { 'x-project-token': 'tok-a-123456' }
      const listed = (await api.request('GET', '/projects?limit=2', { headers })).json()
      expect(listed.map((p: { id: number }) => p.id)).toEqual([b.id, a.id])
      expect(JSON.stringify(listed)).not.toContain('tok-a-123456')
    })

    it('answers 404 Project not found for an unknown id', async () => {
      const response = await api.request('GET', '/projects/999999')
      expect(response.statusCode).toBe(404)
      expect(response.json().detail).toBe('Project not found')
    })

    it('rejects missing fields, wrong types and empty names with 422 in the original shape', async () => {
      const missing = await api.request('POST', '/projects', { body: { name: 'only-name' } })
      expect(missing.statusCode).toBe(422)
      expect(missing.json().detail).toContainEqual(
        expect.objectContaining({ type: 'missing', loc: ['body', 'git_url'], msg: 'Field required' }),
      )
      const wrongType = await api.request('POST', '/projects', { body: { name: 123, git_url: '/x' } })
      expect(wrongType.statusCode).toBe(422)
      expect(wrongType.json().detail[0]).toMatchObject({ type: 'string_type', loc: ['body', 'name'] })
      expect((await api.request('POST', '/projects', { body: { name: '', git_url: '/x' } })).statusCode).toBe(
        422,
      )
    })

    it('updates settings, rotates the project token once and clears it', async () => {
      const project = await createProject(api, { secrets: { api_token: 'old-token-123' } })
      const old = { 'x-project-token': 'old-token-123' }
      const rotated = await api.request('PATCH', `/projects/${project.id}`, {
        body: { rotate_api_token: true, ci_provider: 'gitlab', default_models: { exec: 'm-1' } },
        headers: old,
      })
      expect(rotated.statusCode).toBe(200)
      const { api_token: fresh, ...shown } = rotated.json()
      expect(fresh).toMatch(/^tgzp_/)
      expect(shown).toMatchObject({
        ci_provider: 'gitlab',
        default_models: { exec: 'm-1' },
        has_api_token: true,
      })
      expect((await api.request('GET', `/projects/${project.id}`, { headers: old })).statusCode).toBe(403)
      const now = { 'x-project-token': fresh }
      expect(
        (await api.request('GET', `/projects/${project.id}`, { headers: now })).json(),
      ).not.toHaveProperty('api_token')
      const cleared = await api.request('PATCH', `/projects/${project.id}`, {
        body: { api_token: null },
        headers: now,
      })
      expect(cleared.json()).toMatchObject({ has_api_token: false })
      expect((await api.request('GET', `/projects/${project.id}`)).statusCode).toBe(200)
    })

    it('records clarification answers on the project and as a project-level event', async () => {
      const project = await createProject(api)
      const response = await api.request('POST', `/projects/${project.id}/clarifications`, {
        body: { answers: { ci_provider: 'github', prefer_ssh: false } },
      })
      expect(response.statusCode).toBe(200)
      expect(response.json().clarifications).toEqual({ ci_provider: 'github', prefer_ssh: false })
      const events = (
        await api.request('GET', `/events?project_id=${project.id}&event_type=setup_clarifications_answered`)
      ).json()
      expect(events).toMatchObject([
        { protocol_run_id: null, metadata: { keys: ['ci_provider', 'prefer_ssh'] } },
      ])
      expect(
        (await api.request('POST', `/projects/${project.id}/clarifications`, { body: { answers: {} } }))
          .statusCode,
      ).toBe(422)
    })
  })
}
