import { request as httpRequest } from 'node:http'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { openTestApi, silentStream, type TestApi } from '../support/api.js'
import { DIALECTS, createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'

// Issue 15 #5: without a token, any web page could POST to 127.0.0.1 (CSRF) and a DNS-rebinding
// page could read the API under its own host name.
const project = (name: string) => ({ name, git_url: '/srv/repos/demo' })
const projectNames = async (api: TestApi): Promise<string[]> =>
  (await api.request('GET', '/projects')).json().map((p: { name: string }) => p.name)

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`Host and Origin checks without a token (${dialect})`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect, {
        TASKSGODZILLA_ALLOWED_HOSTS: 'tgz.lan',
        TASKSGODZILLA_CORS_ORIGINS: 'https://console.tgz.lan',
      })
    })
    afterAll(async () => api?.close())

    it('refuses a host name it does not know with 421, and serves loopback, IP literals and listed names', async () => {
      const rebound = await api.request('GET', '/projects', { headers: { host: 'evil.example:8010' } })
      expect(rebound.statusCode).toBe(421)
      expect(rebound.json()).toMatchObject({ code: 'ORC_HOST_NOT_ALLOWED' })
      expect(rebound.json().detail).toContain('"evil.example:8010"')
      for (const host of ['localhost:8010', '127.0.0.1:8010', '[::1]:8010', '192.168.1.20', 'TGZ.lan:80'])
        expect((await api.request('GET', '/projects', { headers: { host } })).statusCode, host).toBe(200)
    })

    it('refuses a state change from a foreign origin with 403 and changes nothing', async () => {
      const refused = await api.request('POST', '/projects', {
        body: project('csrf-victim'),
        headers: { host: 'localhost:8010', origin: 'https://evil.example' },
      })
      expect(refused.statusCode).toBe(403)
      expect(refused.json()).toMatchObject({ code: 'ORC_ORIGIN_NOT_ALLOWED' })
      const blind = await api.request('POST', '/projects', {
        body: project('csrf-blind'),
        headers: { 'sec-fetch-site': 'cross-site' },
      })
      expect(blind.statusCode).toBe(403)
      const opaque = await api.request('POST', '/projects', {
        body: project('csrf-null'),
        headers: { origin: 'null' },
      })
      expect(opaque.statusCode).toBe(403)
      expect(await projectNames(api)).not.toEqual(expect.arrayContaining(['csrf-victim']))
      expect(await projectNames(api)).not.toContain('csrf-blind')
      expect(await projectNames(api)).not.toContain('csrf-null')
    })

    it('accepts state changes from its own pages, configured origins and clients that send no Origin', async () => {
      const own = { host: 'localhost:8010', origin: 'http://localhost:8010' }
      expect(
        (await api.request('POST', '/projects', { body: project('own-page'), headers: own })).statusCode,
      ).toBe(200)
      const configured = { origin: 'https://console.tgz.lan' }
      expect(
        (await api.request('POST', '/projects', { body: project('cors'), headers: configured })).statusCode,
      ).toBe(200)
      expect((await api.request('POST', '/projects', { body: project('cli') })).statusCode).toBe(200)
      // A cross-origin read is not a state change: CORS keeps its answer from a foreign page.
      expect(
        (await api.request('GET', '/projects', { headers: { origin: 'https://evil.example' } })).statusCode,
      ).toBe(200)
    })

    it('checks the Host of webhooks too, which come server to server without an Origin', async () => {
      const foreign = await api.request('POST', '/webhooks/github', {
        body: { ref: 'refs/heads/main' },
        headers: { host: 'hooks.evil.example', 'x-github-event': 'push' },
      })
      expect(foreign.statusCode).toBe(421)
      const listed = await api.request('POST', '/webhooks/github', {
        body: { ref: 'refs/heads/main' },
        headers: { host: 'tgz.lan', 'x-github-event': 'push' },
      })
      expect([421, 403]).not.toContain(listed.statusCode)
    })
  })
}

describe('Host checks with a token', () => {
  it('serves any host name on a wildcard bind, since every request needs the token; pinned names still apply', async () => {
    const open = await openTestApi('sqlite', { TASKSGODZILLA_API_TOKEN: 'host-test-token' })
    const pinned = await openTestApi('sqlite', {
      TASKSGODZILLA_API_TOKEN: 'host-test-token',
      TASKSGODZILLA_ALLOWED_HOSTS: 'tgz.example.com',
    })
    try {
      const auth = { authorization: 'Bearer host-test-token', host: 'tgz.example.com' }
      expect((await open.request('GET', '/projects', { headers: auth })).statusCode).toBe(200)
      expect((await pinned.request('GET', '/projects', { headers: auth })).statusCode).toBe(200)
      const other = { ...auth, host: 'rebound.example' }
      expect((await pinned.request('GET', '/projects', { headers: other })).statusCode).toBe(421)
      const crossSite = { ...auth, origin: 'https://evil.example' }
      expect(
        (await open.request('POST', '/projects', { body: project('tok'), headers: crossSite })).statusCode,
      ).toBe(200)
    } finally {
      await open.close()
      await pinned.close()
    }
  })
})

describe('a DNS-rebinding request against a real listening server', () => {
  let database: TestDatabase
  let running: RunningServer
  beforeAll(async () => {
    database = await createTestDatabase('sqlite')
    const dir = mkdtempSync(join(tmpdir(), 'tgz-host-'))
    const target = database.target.dialect === 'sqlite' ? database.target.path : ''
    const config = loadConfig({ TASKSGODZILLA_DB_PATH: target, TASKSGODZILLA_LOG_JSON: '1' }, dir)
    running = await startServer(config, createLogger(config, silentStream()), { port: 0, runJobs: false })
  })
  afterAll(async () => {
    await running?.stop()
    await database?.drop()
  })

  it('answers 421 to a request for another name arriving at 127.0.0.1', async () => {
    const { port } = new URL(running.address)
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/projects', headers: { host } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
    expect(await status(`attacker.example:${port}`)).toBe(421)
    expect(await status(`127.0.0.1:${port}`)).toBe(200)
    expect(await status(`localhost:${port}`)).toBe(200)
  })
})
