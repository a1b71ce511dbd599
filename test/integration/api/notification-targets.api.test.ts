import { afterEach, describe, expect, it } from 'vitest'
import { createProject, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const SECRET = 'write-only-signing-secret-77'

describe.each(DIALECTS)('notification targets API on %s', (dialect) => {
  let api: TestApi | undefined
  afterEach(async () => {
    await api?.close()
    api = undefined
  })

  it.skipIf(unavailable(dialect))(
    'refuses receiver URLs that are not http(s), carry credentials or point inside, with 422 and nothing stored',
    async () => {
      api = await openTestApi(dialect)
      const project = await createProject(api)
      const refused = [
        'ftp://hooks.example.com/x',
        'file:///etc/passwd',
        'not a url',
        'https://user:pa55word@hooks.example.com/x',
        'http://127.0.0.1:9000/hook',
        'http://localhost/hook',
        'http://10.1.2.3/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]/hook',
        'http://[::ffff:127.0.0.1]/hook',
        'http://192.168.0.10/hook',
      ]
      for (const url of refused) {
        const response = await api.request('POST', `/projects/${project.id}/notification-targets`, {
          body: { url, secret: SECRET },
        })
        expect(response.statusCode, url).toBe(422)
        expect(response.json()).toMatchObject({ code: 'ORC_NOTIFY_URL_REFUSED' })
        expect(response.body).not.toContain('pa55word')
      }
      const listed = await api.request('GET', `/projects/${project.id}/notification-targets`)
      expect(listed.json()).toEqual([])
      const schemaError = await api.request('POST', `/projects/${project.id}/notification-targets`, {
        body: { url: 'https://hooks.example.com/x', events: ['exploded'] },
      })
      expect(schemaError.statusCode).toBe(422)
    },
  )

  it.skipIf(unavailable(dialect))(
    'stores a public receiver with its secret write-only, updates and deletes it',
    async () => {
      api = await openTestApi(dialect)
      const project = await createProject(api)
      const created = await api.request('POST', `/projects/${project.id}/notification-targets`, {
        body: { url: 'https://hooks.example.com/tg', secret: SECRET, events: ['blocked', 'waiting_quota'] },
      })
      expect(created.statusCode).toBe(201)
      const target = created.json()
      expect(target).toMatchObject({
        has_secret: true,
        events: ['blocked', 'waiting_quota'],
        format: 'json',
        enabled: true,
      })
      const patched = await api.request(
        'PATCH',
        `/projects/${project.id}/notification-targets/${target.id}`,
        {
          body: { enabled: false, secret: null },
        },
      )
      expect(patched.json()).toMatchObject({ enabled: false, has_secret: false })
      const badPatch = await api.request(
        'PATCH',
        `/projects/${project.id}/notification-targets/${target.id}`,
        {
          body: { url: 'gopher://hooks.example.com' },
        },
      )
      expect(badPatch.statusCode).toBe(422)
      const bodies = [
        created.body,
        patched.body,
        (await api.request('GET', `/projects/${project.id}/notification-targets`)).body,
      ]
      for (const body of bodies) expect(body).not.toContain(SECRET)
      const removed = await api.request('DELETE', `/projects/${project.id}/notification-targets/${target.id}`)
      expect(removed.statusCode).toBe(204)
      const again = await api.request('DELETE', `/projects/${project.id}/notification-targets/${target.id}`)
      expect(again.statusCode).toBe(404)
      const noReceiver = await api.request('POST', `/projects/${project.id}/notifications/test`, { body: {} })
      expect(noReceiver.statusCode).toBe(409)
    },
  )

  it.skipIf(unavailable(dialect))(
    'lets private receivers through only when the operator allows them',
    async () => {
      api = await openTestApi(dialect, { TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS: 'true' })
      const project = await createProject(api)
      const local = await api.request('POST', `/projects/${project.id}/notification-targets`, {
        body: { url: 'http://127.0.0.1:9000/hook' },
      })
      expect(local.statusCode).toBe(201)
      const withCredentials = await api.request('POST', `/projects/${project.id}/notification-targets`, {
        body: { url: 'http://u:p@127.0.0.1:9000/hook' },
      })
      expect(withCredentials.statusCode).toBe(422)
    },
  )

  it.skipIf(unavailable(dialect))('guards targets and the delivery log with the project token', async () => {
    api = await openTestApi(dialect)
    const project = await createProject(api, { secrets: { api_token: 'notify-proj-token-1' } })
    for (const [method, url] of [
      ['GET', `/projects/${project.id}/notification-targets`],
      ['GET', `/projects/${project.id}/notifications`],
      ['POST', `/projects/${project.id}/notifications/test`],
    ] as const) {
      const missing = await api.request(method, url, method === 'POST' ? { body: {} } : {})
      expect(missing.statusCode, `${method} ${url}`).toBe(401)
      const wrong = await api.request(method, url, {
        headers: { 'x-project-token': 'nope' },
        ...(method === 'POST' ? { body: {} } : {}),
      })
      expect(wrong.statusCode, `${method} ${url}`).toBe(403)
    }
    const created = await api.request('POST', `/projects/${project.id}/notification-targets`, {
      body: { url: 'https://hooks.example.com/tg' },
      headers: { 'x-project-token': 'notify-proj-token-1' },
    })
    expect(created.statusCode).toBe(201)
    const log = await api.request('GET', `/projects/${project.id}/notifications`, {
      headers: { 'x-project-token': 'notify-proj-token-1' },
    })
    expect(log.statusCode).toBe(200)
  })
})
