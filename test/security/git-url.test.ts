import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PermanentJobError } from '../../src/app/queue-runtime/job-handler.js'
import { createProjectSetupHandler } from '../../src/app/protocol/setup/project-setup.job.js'
import { openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { seedProjectSetup } from '../support/fixtures.js'
import { jobRun, makeJobDeps } from '../support/protocol-jobs.js'

const SECRET = 'ghp_s3cretT0kenValue'

/** Issue 15 item 7: git URLs are checked before they are stored, and never carry a secret. */
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`git_url validation on ${dialect}`, () => {
    let api: TestApi
    let root: string
    let counter = 0
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tgz-sec-url-'))
      api = await openTestApi(dialect, { TASKSGODZILLA_PROJECTS_ROOT: join(root, 'projects') })
    })
    afterAll(async () => {
      await api.close()
      rmSync(root, { recursive: true, force: true })
    })

    const create = (gitUrl: string) =>
      api.request('POST', '/projects', { body: { name: `url-${dialect}-${++counter}`, git_url: gitUrl } })
    const projectNames = async () =>
      ((await api.request('GET', '/projects')).json() as Array<{ name: string }>).map((p) => p.name)

    it('refuses transport helpers and option-like URLs at create with 422, creating nothing', async () => {
      for (const url of [
        'ext::sh -c touch% /tmp/pwned',
        '--upload-pack=touch /tmp/pwned',
        'fd::3',
        'http://x/y',
      ]) {
        const response = await create(url)
        expect(response.statusCode, url).toBe(422)
        expect(response.json()).toMatchObject({ code: 'ORC_GIT_URL_REFUSED' })
        expect(response.json().detail).toContain('is refused')
      }
      expect(await projectNames()).toEqual([])
    })

    it('refuses URLs with credentials without echoing them, and accepts plain ones', async () => {
      for (const url of [
        `https://user:${SECRET}@github.com/acme/demo.git`,
        `https://${SECRET}@github.com/acme/demo.git`,
        `ssh://git:${SECRET}@example.com/acme/demo.git`,
      ]) {
        const response = await create(url)
        expect(response.statusCode, url).toBe(422)
        expect(response.json().detail).toContain('carries credentials')
        expect(response.body).not.toContain(SECRET)
      }
      expect(await projectNames()).toEqual([])
      for (const url of [
        'https://github.com/acme/demo.git',
        'ssh://git@example.com/acme/demo.git',
        'git@github.com:a/b.git',
      ])
        expect((await create(url)).statusCode, url).toBe(200)
    })

    it('fails setup of a stored refused URL at once, without retry, and shows no credential', async () => {
      const { project, run } = await seedProjectSetup(api.runtime.deps.repos, {
        name: `legacy-${dialect}`,
        gitUrl: `https://user:${SECRET}@github.com/acme/legacy.git`,
      })
      const handler = createProjectSetupHandler(makeJobDeps(api.runtime.database, root))
      const payload = { project_id: project.id, protocol_run_id: run.id, job_id: 'setup-refused' }
      await expect(handler(payload, jobRun())).rejects.toBeInstanceOf(PermanentJobError)
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('failed')
      const shown = await api.request('GET', `/projects/${project.id}`)
      expect(shown.json().git_url).toBe('https://***@github.com/acme/legacy.git')
      const events = await api.request('GET', `/protocols/${run.id}/events`)
      expect(events.json().map((e: { event_type: string }) => e.event_type)).toContain('setup_failed')
      expect(`${shown.body}${events.body}${(await api.request('GET', '/projects')).body}`).not.toContain(
        SECRET,
      )
    })
  })
}
