import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { makeOriginWithClone } from '../support/git-repos.js'

/** Issue 15 item 14: a path is decoded once; a project token is a token or nothing. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`input decoding on ${dialect}`, () => {
    let api: TestApi
    let root: string
    let projectId: number
    let counter = 0
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tgz-sec-input-'))
      api = await openTestApi(dialect, { TASKSGODZILLA_PROJECTS_ROOT: join(root, 'projects') })
      const repos = makeOriginWithClone(root)
      const created = await api.request('POST', '/projects', {
        body: { name: `decode-${dialect}`, git_url: repos.origin, local_path: repos.clone },
      })
      projectId = created.json().id
    })
    afterAll(async () => {
      await api.close()
      rmSync(root, { recursive: true, force: true })
    })

    const deleteBranch = (encoded: string) =>
      api.request('POST', `/projects/${projectId}/branches/${encoded}/delete`, { body: { confirm: true } })

    it('decodes a branch name once: %25 is a literal %, never a 500', async () => {
      const response = await deleteBranch('x%25zz')
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ deleted: true, branch: 'x%zz' })
      for (const encoded of ['x%25', '%25E0%25A4%25A'])
        expect((await deleteBranch(encoded)).statusCode).toBe(200)
    })

    it('answers 4xx for an invalid branch name', async () => {
      for (const encoded of ['bad%7Ename', 'a..b', 'x%2520y%20z']) {
        const response = await deleteBranch(encoded)
        expect(response.statusCode, encoded).toBeGreaterThanOrEqual(400)
        expect(response.statusCode, encoded).toBeLessThan(500)
      }
    })

    it('answers 4xx, not 500, for a path that is not valid percent-encoding', async () => {
      const response = await api.request('POST', `/projects/${projectId}/branches/x%zz/delete`, {
        body: { confirm: true },
      })
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
    })

    it('refuses a secrets.api_token that is not a token (422) instead of creating an open project', async () => {
      for (const token of [12345678, '', 'short', null, true, { a: 1 }]) {
        const name = `tok-${dialect}-${++counter}`
        const response = await api.request('POST', '/projects', {
          body: { name, git_url: '/srv/repos/tok', secrets: { api_token: token } },
        })
        expect(response.statusCode, JSON.stringify(token)).toBe(422)
        expect(response.json().detail[0].msg).toContain('secrets.api_token must be a string')
        const names = (await api.request('GET', '/projects')).json().map((p: { name: string }) => p.name)
        expect(names).not.toContain(name)
      }
      const ok = await api.request('POST', '/projects', {
        body: {
          name: `tok-${dialect}-ok`,
          git_url: '/srv/repos/tok',
          secrets: { api_token: 'a-real-token' },
        },
      })
      expect(ok.json().has_api_token).toBe(true)
    })
  })
}
