import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTestApi, type TestApi } from '../../support/api.js'

// The assembled server (composition root's createHttpServer → buildApp), not routes on a bare instance.
describe('console assets on the assembled server', () => {
  let api: TestApi
  beforeAll(async () => {
    api = await openTestApi('sqlite')
  })
  afterAll(() => api.close())

  it('answers a missing console asset with 404 Not Found, not 405', async () => {
    for (const url of ['/console/static/missing-0000.js', '/console/favicon-missing.ico']) {
      const response = await api.request('GET', url)
      expect(response.statusCode).toBe(404)
      expect(response.json()).toEqual({ detail: 'Not Found' })
    }
  })

  it('still answers a console path asked with another method with 405', async () => {
    const response = await api.request('POST', '/console/static/missing-0000.js')
    expect(response.statusCode).toBe(405)
    expect(response.json()).toEqual({ detail: 'Method Not Allowed' })
  })
})
