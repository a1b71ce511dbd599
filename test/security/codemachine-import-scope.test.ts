import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { makeLocalRepo } from '../support/git-repos.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/codemachine/', import.meta.url))

/** Issue 15 item 6: one folder per project, and `local_path` never widens it to the system. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`CodeMachine import scope and local_path on ${dialect}`, () => {
    let api: TestApi
    let root: string
    let projectsRoot: string
    let counter = 0
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tgz-sec-scope-'))
      projectsRoot = join(root, 'projects')
      mkdirSync(projectsRoot)
      api = await openTestApi(dialect, { TASKSGODZILLA_PROJECTS_ROOT: projectsRoot })
    })
    afterAll(async () => {
      await api.close()
      rmSync(root, { recursive: true, force: true })
    })

    /** A project whose checkout is a clone under the projects root, as setup would leave it. */
    const clonedProject = async (name: string) => {
      const folder = makeLocalRepo(join(projectsRoot, 'example.com', 'acme', name))
      const project = await createProject(api, { git_url: `https://example.com/acme/${name}.git` })
      return { id: project.id, folder }
    }
    const workspaceIn = (base: string) => {
      counter += 1
      const path = join(base, `ws-${counter}`)
      cpSync(join(FIXTURES, 'esm-camel'), path, { recursive: true })
      return { path, name: `${String(counter).padStart(4, '0')}-scope-${dialect}` }
    }
    const importInto = (projectId: number, ws: { path: string; name: string }) =>
      api.request('POST', `/projects/${projectId}/codemachine/import`, {
        body: { protocol_name: ws.name, workspace_path: ws.path },
      })

    it("refuses a workspace in another project's clone or loose in the projects root", async () => {
      const mine = await clonedProject(`mine-${dialect}`)
      const theirs = await clonedProject(`theirs-${dialect}`)
      for (const ws of [workspaceIn(theirs.folder), workspaceIn(projectsRoot)]) {
        const response = await importInto(mine.id, ws)
        expect(response.statusCode).toBe(422)
        expect(response.json()).toMatchObject({ code: 'ORC_PATH_OUTSIDE_ROOT' })
        expect(response.json().detail).toContain("outside the project's own folder")
      }
      expect((await importInto(mine.id, workspaceIn(mine.folder))).statusCode).toBe(200)
    })

    it('refuses local_path "/" and other system folders at create and PATCH', async () => {
      const project = await clonedProject(`patched-${dialect}`)
      for (const localPath of ['/', '/etc', '/usr/lib', '/proc/self', '/home', '/var', '/root', '/dev']) {
        const patched = await api.request('PATCH', `/projects/${project.id}`, {
          body: { local_path: localPath },
        })
        expect(patched.statusCode, localPath).toBe(422)
        expect(patched.json().detail[0].msg).toContain(`local_path ${JSON.stringify(localPath)} is refused`)
        const created = await api.request('POST', '/projects', {
          body: { name: `sys-${counter++}`, git_url: 'https://example.com/a/b.git', local_path: localPath },
        })
        expect(created.statusCode, localPath).toBe(422)
      }
      const stored = (await api.request('GET', `/projects/${project.id}`)).json()
      expect(stored.local_path).toBeNull()
    })

    it('refuses a local_path that is not an existing git work tree, or a link into a system folder', async () => {
      const project = await clonedProject(`links-${dialect}`)
      mkdirSync(join(root, 'plain'))
      symlinkSync('/etc', join(root, 'etc-link'))
      for (const localPath of [join(root, 'plain'), join(root, 'missing'), join(root, 'etc-link')]) {
        const patched = await api.request('PATCH', `/projects/${project.id}`, {
          body: { local_path: localPath },
        })
        expect(patched.statusCode, localPath).toBe(422)
      }
      const repo = makeLocalRepo(join(root, `ok-${dialect}`))
      const ok = await api.request('PATCH', `/projects/${project.id}`, { body: { local_path: repo } })
      expect(ok.statusCode).toBe(200)
      expect(ok.json().local_path).toBe(repo)
    })

    it('keeps local_path inside the projects root when local repositories are disabled', async () => {
      const closed = await openTestApi(dialect, {
        TASKSGODZILLA_PROJECTS_ROOT: projectsRoot,
        TASKSGODZILLA_ALLOW_LOCAL_REPOS: 'false',
      })
      try {
        const outside = makeLocalRepo(join(root, `outside-${dialect}`))
        const inside = makeLocalRepo(join(projectsRoot, 'example.com', 'acme', `inside-${dialect}`))
        const body = (localPath: string) => ({
          name: `closed-${counter++}`,
          git_url: `https://example.com/acme/inside-${dialect}.git`,
          local_path: localPath,
        })
        expect((await closed.request('POST', '/projects', { body: body(outside) })).statusCode).toBe(422)
        expect((await closed.request('POST', '/projects', { body: body(inside) })).statusCode).toBe(200)
        expect(existsSync(inside)).toBe(true)
      } finally {
        await closed.close()
      }
    })
  })
}
