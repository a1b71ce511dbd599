import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProtocol, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { git, makeOriginWithClone, removeDir, tempDir } from '../../support/git-repos.js'

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`remote branches on ${dialect}`, () => {
    let api: TestApi
    let root: string
    let projectId: number
    let origin: string

    beforeAll(async () => {
      api = await openTestApi(dialect)
      root = tempDir('tgz-branches-')
      const repos = makeOriginWithClone(root)
      origin = repos.origin
      for (const branch of ['feature/old', 'stale', '0001-active'])
        git(repos.clone, 'push', 'origin', `HEAD:refs/heads/${branch}`)
      const created = await api.request('POST', '/projects', {
        body: { name: 'branches', git_url: origin, local_path: repos.clone, base_branch: 'main' },
      })
      projectId = created.json().id
      await createProtocol(api, projectId, { protocol_name: '0001-active', status: 'running' })
    })
    afterAll(async () => {
      await api.close()
      removeDir(root)
    })

    const remoteHeads = () => git(root, 'ls-remote', '--heads', origin)

    it('lists origin branches and records a project-level branches_listed event', async () => {
      const response = await api.request('GET', `/projects/${projectId}/branches`)
      expect(response.statusCode).toBe(200)
      expect(response.json().branches.sort()).toEqual(['0001-active', 'feature/old', 'main', 'stale'])
      const events = (
        await api.request('GET', `/events?project_id=${projectId}&event_type=branches_listed`)
      ).json()
      expect(events).toMatchObject([
        { protocol_run_id: null, metadata: { branches: expect.arrayContaining(['main']) } },
      ])
    })

    it('deletes a branch with confirm=true, including names with slashes', async () => {
      const refused = await api.request('POST', `/projects/${projectId}/branches/stale/delete`, { body: {} })
      expect(refused.statusCode).toBe(400)
      expect(refused.json().detail).toBe('confirm=true required to delete a remote branch')
      const deleted = await api.request('POST', `/projects/${projectId}/branches/feature/old/delete`, {
        body: { confirm: true },
      })
      expect(deleted.json()).toEqual({ deleted: true, branch: 'feature/old' })
      expect(remoteHeads()).not.toContain('refs/heads/feature/old')
      const events = (
        await api.request('GET', `/events?project_id=${projectId}&event_type=branch_deleted`)
      ).json()
      expect(events).toMatchObject([
        { message: 'Deleted remote branch feature/old.', metadata: { branch: 'feature/old' } },
      ])
    })

    it('refuses the base branch, an active run branch and invalid names, leaving origin untouched', async () => {
      const base = await api.request('POST', `/projects/${projectId}/branches/main/delete`, {
        body: { confirm: true },
      })
      expect(base.statusCode).toBe(409)
      const active = await api.request('POST', `/projects/${projectId}/branches/0001-active/delete`, {
        body: { confirm: true },
      })
      expect(active.statusCode).toBe(409)
      const sneaky = await api.request('POST', `/projects/${projectId}/branches/-oProxyCommand=x/delete`, {
        body: { confirm: true },
      })
      expect(sneaky.statusCode).toBe(422)
      expect(remoteHeads()).toContain('refs/heads/main')
      expect(remoteHeads()).toContain('refs/heads/0001-active')
    })

    it('answers 409 when the repository is not present locally, without cloning', async () => {
      const created = await api.request('POST', '/projects', {
        body: { name: 'remote-only', git_url: 'https://github.com/acme/not-here.git' },
      })
      const response = await api.request('GET', `/projects/${created.json().id}/branches`)
      expect(response.statusCode).toBe(409)
      expect(response.json().detail).toMatch(/^Repository not present locally at /)
    })
  })
}
