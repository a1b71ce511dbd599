import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { createHttpServer, openRuntime, type Runtime } from '../../src/composition/index.js'
import { HEALTHY_REPORT_REUSE_MS } from '../../src/faces/http/routes/health.routes.js'
import { createTestDatabase, DIALECTS, unavailable, type TestDatabase } from '../support/databases.js'
import { dbEnv } from '../support/queue-harness.js'

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

describe.each(DIALECTS)('the database check of /health on %s', (dialect) => {
  let runtime: Runtime | undefined
  let database: TestDatabase | undefined
  afterEach(async () => {
    await runtime?.close().catch(() => undefined)
    await database?.drop()
    runtime = database = undefined
  })

  it.skipIf(unavailable(dialect))(
    'answers a second call within a second without the database, and shows it down about a second later',
    async () => {
      database = await createTestDatabase(dialect)
      const dir = mkdtempSync(join(tmpdir(), 'tgz-http-'))
      const config = loadConfig({ ...dbEnv(database.target), TASKSGODZILLA_LOG_JSON: '1' }, dir)
      runtime = await openRuntime(config, createLogger(config, silent))
      const server = await createHttpServer(runtime)
      expect((await server.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' })
      const checkedAt = performance.now()
      await runtime.database.close()
      // Within the second the healthy report stands: this call made no database round trip,
      // or the closed database would have made it a 503.
      // (Only judged when the machine let it come within the second, which it does in milliseconds.)
      const cached = await server.inject({ method: 'GET', url: '/health' })
      if (performance.now() - checkedAt < HEALTHY_REPORT_REUSE_MS) expect(cached.statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, HEALTHY_REPORT_REUSE_MS + 100))
      const down = await server.inject({ method: 'GET', url: '/health' })
      expect(down.statusCode).toBe(503)
      expect(down.json()).toMatchObject({ status: 'degraded', checks: { db: 'error' } })
    },
  )
})
