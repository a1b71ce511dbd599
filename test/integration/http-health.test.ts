import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { createHttpServer, openRuntime, type Runtime } from '../../src/composition/index.js'

const silent = new Writable({ write: (_chunk, _encoding, done) => done() })

const open = async (): Promise<Runtime> => {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-http-'))
  const config = loadConfig(
    { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_LOG_JSON: '1' },
    dir,
  )
  return openRuntime(config, createLogger(config, silent))
}

describe('health endpoints', () => {
  let runtime: Runtime | undefined
  afterEach(async () => {
    await runtime?.close().catch(() => undefined)
  })

  it('answers {"status":"ok"} while the database answers', async () => {
    runtime = await open()
    const server = await createHttpServer(runtime)
    const response = await server.inject({ method: 'GET', url: '/health' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
    expect((await server.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
  })

  it('answers 503 naming the failing dependency once the database is gone', async () => {
    runtime = await open()
    const server = await createHttpServer(runtime)
    await runtime.database.close()
    const response = await server.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toEqual({ status: 'degraded', checks: { db: 'error' } })
    expect((await server.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200)
  })

  it('echoes a plain X-Request-ID and replaces one that could inject into logs', async () => {
    runtime = await open()
    const server = await createHttpServer(runtime)
    const kept = await server.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'abc-123.x_y' },
    })
    expect(kept.headers['x-request-id']).toBe('abc-123.x_y')
    const replaced = await server.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'a\tb c' },
    })
    expect(replaced.statusCode).toBe(404)
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})
