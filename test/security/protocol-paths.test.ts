import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { makeLocalRepo } from '../support/git-repos.js'

/** Issue 15 item 2: a run's worktree and protocol root are server-owned folders. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`protocol paths on ${dialect}`, () => {
    let api: TestApi
    let root: string
    let repo: string
    let projectId: number
    let counter = 0
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tgz-sec-paths-'))
      api = await openTestApi(dialect, { TASKSGODZILLA_PROJECTS_ROOT: join(root, 'projects') })
      repo = makeLocalRepo(join(root, 'repo'))
      projectId = (await createProject(api, { git_url: repo, local_path: repo })).id
    })
    afterAll(async () => {
      await api.close()
      rmSync(root, { recursive: true, force: true })
    })

    const create = (body: Record<string, unknown>) => {
      counter += 1
      const protocol_name = `${String(counter).padStart(4, '0')}-paths-${dialect}`
      return api.request('POST', `/projects/${projectId}/protocols`, { body: { protocol_name, ...body } })
    }

    it('refuses a worktree_path or protocol_root outside the project folder with 422, storing nothing', async () => {
      const other = makeLocalRepo(join(root, 'other-project'))
      mkdirSync(join(root, 'escape'))
      symlinkSync(join(root, 'escape'), join(repo, 'link-out'))
      const outside = ['/etc', '/tmp', other, join(repo, '..', 'escape'), join(repo, 'link-out', 'x')]
      for (const path of outside)
        for (const field of ['worktree_path', 'protocol_root']) {
          const response = await create({ [field]: path })
          expect(response.statusCode, `${field}=${path}`).toBe(422)
          expect(response.json().detail).toContain(`${field} ${JSON.stringify(path)} is outside the project`)
        }
      const runs = (await api.request('GET', `/projects/${projectId}/protocols`)).json()
      expect(runs.map((run: { protocol_name: string }) => run.protocol_name)).toEqual([`setup-${projectId}`])
    })

    it('refuses a relative path with 422', async () => {
      const response = await create({ worktree_path: 'sub/dir' })
      expect(response.statusCode).toBe(422)
      expect(JSON.stringify(response.json())).toContain('must be an absolute path')
    })

    it('accepts folders inside the project checkout and stores them', async () => {
      const inside = join(repo, 'work')
      mkdirSync(inside)
      const response = await create({ worktree_path: inside, protocol_root: join(inside, '.protocols', 'x') })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({
        worktree_path: inside,
        protocol_root: join(inside, '.protocols', 'x'),
      })
      expect((await create({})).statusCode).toBe(200)
    })
  })
}
