import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
// Brings in the `schema.hide` option, so the console's routes stay out of the OpenAPI document.
import type {} from '@fastify/swagger'

export interface ConsoleRoutesOptions {
  /** Folder of the built console (`index.html` + `static/`); defaults to `dist/console` of the package. */
  readonly root?: string
}

/**
 * The policy every console response carries: scripts, styles and data from this origin only, no
 * inline script, no eval, no framing. Bar widths are set through the CSSOM, which this allows.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const NOT_BUILT = { detail: 'Console assets not available' }
/** Vite puts content-hashed files here, so they may be cached for good. */
const HASHED_DIR = 'static/'

/**
 * Serves the console SPA: `/` and `/console` redirect to `/console/` (relative Location, so a
 * path prefix in front of the server survives), `/console/static/*` are the built assets, and
 * any other `/console/*` path gets `index.html` (client routes). No auth: these are public files.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (server, options) => {
  const root = options.root ?? defaultConsoleRoot()
  await server.register(fastifyStatic, { root, serve: false, dotfiles: 'deny', index: false })

  server.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Content-Security-Policy', CONSOLE_CSP)
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('X-Frame-Options', 'DENY')
    return payload
  })

  const routeOptions = { schema: { hide: true }, config: { public: true } }

  server.get('/', routeOptions, async (_request, reply) => reply.redirect('console/', 302))

  server.get('/console', routeOptions, async (request, reply) => {
    if (!pathOf(request).endsWith('/')) return reply.redirect('console/', 302)
    return sendIndex(reply, root, '')
  })

  server.get('/console/*', routeOptions, async (request, reply) => {
    const rest = (request.params as { '*': string })['*']
    if (rest.startsWith(HASHED_DIR) || /\.[a-z0-9]+$/i.test(rest)) {
      reply.header(
        'Cache-Control',
        rest.startsWith(HASHED_DIR) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      return reply.sendFile(rest, root, { cacheControl: false })
    }
    return sendIndex(reply, root, rest)
  })
}

/** `dist/console` beside `src/` or `dist/` (this file sits four folders below the package root either way), for a server built without the composition root's `consoleRoot` (tests). */
export const defaultConsoleRoot = (): string =>
  resolve(dirname(fileURLToPath(import.meta.url)), '../../../../dist/console')

const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] ?? ''

/**
 * `index.html` for a client route. Its asset URLs are relative (`./static/...`), so for a nested
 * route a `<base>` pointing back at the console folder keeps them resolving.
 */
const sendIndex = async (reply: FastifyReply, root: string, rest: string) => {
  let html: string
  try {
    html = await readFile(resolve(root, 'index.html'), 'utf8')
  } catch {
    return reply.status(404).send(NOT_BUILT)
  }
  const depth = rest.split('/').length - 1
  if (depth > 0) html = html.replace('<head>', `<head>\n    <base href="${'../'.repeat(depth)}" />`)
  return reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(html)
}
