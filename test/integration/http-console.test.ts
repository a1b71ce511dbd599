import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { CONSOLE_CSP, consoleRoutes } from '../../src/faces/http/routes/console.routes.js'

const INDEX =
  '<!doctype html><html><head><script type="module" src="./static/app-1.js"></script></head></html>'

const fakeBuild = (): string => {
  const root = mkdtempSync(join(tmpdir(), 'tgz-console-assets-'))
  mkdirSync(join(root, 'static'))
  writeFileSync(join(root, 'index.html'), INDEX)
  writeFileSync(join(root, 'static', 'app-1.js'), 'console.log(1)')
  return root
}

describe('console routes', () => {
  let server: FastifyInstance | undefined
  afterEach(async () => server?.close())

  const open = async (root: string) => {
    server = Fastify({ routerOptions: { ignoreTrailingSlash: true } })
    await server.register(consoleRoutes, { root })
    return server
  }

  it('redirects / and /console to console/ with a relative Location, so a path prefix survives', async () => {
    const app = await open(fakeBuild())
    for (const url of ['/', '/console']) {
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(302)
      expect(response.headers.location).toBe('console/')
    }
  })

  it('serves index.html with a strict CSP and no caching', async () => {
    const app = await open(fakeBuild())
    const response = await app.inject({ url: '/console/' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('text/html')
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP)
    expect(response.headers['cache-control']).toBe('no-cache')
    expect(response.body).toBe(INDEX)
    expect((await app.inject({ url: '/console/', method: 'HEAD' })).statusCode).toBe(200)
  })

  it('serves hashed assets for good, and index.html with a <base> for nested client routes', async () => {
    const app = await open(fakeBuild())
    const asset = await app.inject({ url: '/console/static/app-1.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['content-type']).toContain('javascript')
    expect(asset.headers['cache-control']).toContain('immutable')
    const nested = await app.inject({ url: '/console/projects/3/runs/4' })
    expect(nested.body).toContain('<base href="../../../" />')
  })

  it('answers 404 for missing assets and refuses to leave the build folder', async () => {
    const app = await open(fakeBuild())
    for (const url of [
      '/console/static/nope.js',
      '/console/static/../../etc/passwd',
      '/console/%2e%2e/%2e%2e/package.json',
    ]) {
      const response = await app.inject({ url })
      expect(response.statusCode).toBe(404)
      expect(response.body).not.toContain('root:')
    }
  })

  it('says so when the console was not built', async () => {
    const app = await open(join(tmpdir(), 'tgz-no-such-console-build'))
    const response = await app.inject({ url: '/console/' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ detail: 'Console assets not available' })
  })
})
