import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseTarget } from '../../../src/config.js'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { openDatabase } from '../../../src/adapters/storage/database.js'
import { migrateToLatest } from '../../../src/adapters/storage/migrations/index.js'
import { createRepositories } from '../../../src/adapters/storage/unit-of-work.js'
import { createTestDatabase, DIALECTS, unavailable } from '../../support/databases.js'
import { seedProject } from '../../support/fixtures.js'

const WRITER = fileURLToPath(new URL('../../support/write-events.ts', import.meta.url))

/** Appends events from a separate process, as a worker or another API instance would. */
const writeEventsElsewhere = (target: DatabaseTarget, projectId: number, prefix: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const dbEnv =
      target.dialect === 'sqlite'
        ? { TASKSGODZILLA_DB_PATH: target.path }
        : { TASKSGODZILLA_DB_URL: target.url }
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, String(projectId), '1', prefix], {
      env: { PATH: process.env.PATH ?? '', ...dbEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))))
  })

const messages = (body: string): string[] =>
  (JSON.parse(body) as Array<{ message: string }>).map((e) => e.message)

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`repeated reads served from memory on ${dialect}`, () => {
    let api: TestApi
    let open: { id: number }
    let guarded: { id: number }
    const TOKEN = 'tok-guarded-project'
    const withToken = { 'x-project-token': TOKEN }

    beforeAll(async () => {
      api = await openTestApi(dialect)
      open = await createProject(api)
      guarded = await createProject(api, { secrets: { api_token: TOKEN } })
    })
    afterAll(async () => api?.close())

    it('answers a repeated read with the same body and ETag, and a 304 to If-None-Match', async () => {
      const run = await createProtocol(api, open.id)
      const url = `/protocols/${run.id}/events`
      const first = await api.request('GET', url)
      const second = await api.request('GET', url)
      expect(second.statusCode).toBe(200)
      expect(second.body).toBe(first.body)
      expect(second.headers['content-type']).toBe('application/json; charset=utf-8')
      expect(second.headers.etag).toMatch(/^"[\w-]+"$/)
      expect(second.headers.etag).toBe(first.headers.etag)
      expect(second.headers['cache-control']).toBe('no-cache')

      const revalidated = await api.request('GET', url, { headers: { 'if-none-match': first.headers.etag! } })
      expect(revalidated.statusCode).toBe(304)
      expect(revalidated.body).toBe('')
      expect(revalidated.headers.etag).toBe(first.headers.etag)
      // A proxy may weaken the tag; If-None-Match still matches it.
      const weakened = await api.request('GET', url, {
        headers: { 'if-none-match': `W/${first.headers.etag!}` },
      })
      expect(weakened.statusCode).toBe(304)
    })

    it('shows a write made through this API on the very next read', async () => {
      const run = await createProtocol(api, open.id)
      const before = await api.request('GET', `/protocols/${run.id}/steps`)
      expect(before.json()).toEqual([])
      const step = await createStep(api, run.id)
      const after = await api.request('GET', `/protocols/${run.id}/steps`)
      expect(after.json()).toMatchObject([{ id: step.id, step_name: step.step_name }])
      expect(after.headers.etag).not.toBe(before.headers.etag)
      const stale = await api.request('GET', `/protocols/${run.id}/steps`, {
        headers: { 'if-none-match': before.headers.etag! },
      })
      expect(stale.statusCode).toBe(200)
    })

    it('shows events another process committed on the very next read', async () => {
      const url = `/events?project_id=${open.id}&event_type=external`
      expect(messages((await api.request('GET', url)).body)).toEqual([])
      expect(messages((await api.request('GET', url)).body)).toEqual([])
      await writeEventsElsewhere(api.runtime.config.database, open.id, 'from-worker')
      expect(messages((await api.request('GET', url)).body)).toEqual(['from-worker-0'])
    })

    it('never serves one caller what only another caller’s project token may see', async () => {
      const run = await createProtocol(api, guarded.id, {}, withToken)
      const url = `/protocols/${run.id}/events`
      expect((await api.request('GET', url, { headers: withToken })).statusCode).toBe(200)
      expect((await api.request('GET', url)).statusCode).toBe(401)
      expect((await api.request('GET', url, { headers: { 'x-project-token': 'wrong' } })).statusCode).toBe(
        403,
      )

      const everything = '/events?limit=1000'
      const runsEvents = (body: string) =>
        (JSON.parse(body) as Array<{ protocol_run_id: number | null }>).filter(
          (e) => e.protocol_run_id === run.id,
        )
      expect(runsEvents((await api.request('GET', everything, { headers: withToken })).body)).not.toEqual([])
      expect(runsEvents((await api.request('GET', everything)).body)).toEqual([])
    })
  })
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`the version of all data on ${dialect}`, () => {
    it('moves when another connection commits, and is withheld inside one of our SQLite transactions', async () => {
      const database = await createTestDatabase(dialect)
      const handle = openDatabase(database.target)
      await migrateToLatest(handle)
      const other = openDatabase(database.target)
      const allVersion = async () => (await handle.scopeVersions([{ kind: 'all', id: 0 }]))[0]
      try {
        const before = await allVersion()
        expect(before).toBeDefined()
        expect(await allVersion()).toBe(before)
        await seedProject(createRepositories(other.db))
        expect(await allVersion()).not.toBe(before)
        if (dialect === 'sqlite') {
          await handle.db.transaction().execute(async (trx) => {
            await trx.selectFrom('projects').select('id').execute()
            expect(await allVersion()).toBeUndefined()
          })
          expect(await allVersion()).toBeDefined()
        }
      } finally {
        await other.close()
        await handle.close()
        await database.drop()
      }
    })
  })
}

describe('a kept body answered to a cross-origin caller', () => {
  it('still carries the CORS headers', async () => {
    const origin = 'http://console.example'
    const api = await openTestApi('sqlite', { TASKSGODZILLA_CORS_ORIGINS: origin })
    try {
      const project = await createProject(api)
      for (let i = 0; i < 2; i++) {
        const response = await api.request('GET', `/projects/${project.id}`, { headers: { origin } })
        expect(response.statusCode).toBe(200)
        expect(response.headers['access-control-allow-origin']).toBe(origin)
      }
    } finally {
      await api.close()
    }
  })
})

describe('with the memory for reads turned off', () => {
  it('computes every read and sends no ETag', async () => {
    const api = await openTestApi('sqlite', { TASKSGODZILLA_READ_CACHE_MB: '0' })
    try {
      const project = await createProject(api)
      const response = await api.request('GET', `/projects/${project.id}`)
      expect(response.statusCode).toBe(200)
      expect(response.headers.etag).toBeUndefined()
    } finally {
      await api.close()
    }
  })
})
