import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'

/** Issue 15 item 3: `GET /projects` shows what `GET /projects/{id}` would, no more. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`project listing on ${dialect}`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect)
    })
    afterAll(async () => api.close())

    const listedIds = async (headers: Record<string, string> = {}) =>
      ((await api.request('GET', '/projects', { headers })).json() as Array<{ id: number }>).map((p) => p.id)

    it('leaves token-protected projects out for callers without their token, whatever was cached', async () => {
      const guarded = await createProject(api, {
        git_url: '/srv/repos/guarded-private',
        secrets: { api_token: 'guarded-token-1' },
      })
      await api.request('POST', `/projects/${guarded.id}/clarifications`, {
        body: { answers: { notes: 'private notes' } },
        headers: { 'x-project-token': 'guarded-token-1' },
      })
      const open = await createProject(api)
      // The holder reads first, so a memo keyed on the URL alone would hand its body to the others.
      expect(await listedIds({ 'x-project-token': 'guarded-token-1' })).toEqual([open.id, guarded.id])
      expect(await listedIds()).toEqual([open.id])
      expect(await listedIds({ 'x-project-token': 'wrong-token-1' })).toEqual([open.id])
      const body = (await api.request('GET', '/projects')).body
      expect(body).not.toContain('guarded-private')
      expect(body).not.toContain('private notes')
      expect(await listedIds({ 'x-project-token': 'guarded-token-1' })).toEqual([open.id, guarded.id])
    })

    it('stops listing a project once it is given a token', async () => {
      const project = await createProject(api)
      expect(await listedIds()).toContain(project.id)
      const patched = await api.request('PATCH', `/projects/${project.id}`, {
        body: { rotate_api_token: true },
      })
      expect(patched.statusCode).toBe(200)
      expect(await listedIds()).not.toContain(project.id)
      expect(await listedIds({ 'x-project-token': patched.json().api_token })).toContain(project.id)
    })
  })
}
