import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../domain/app-error.js'
import { secretMatcher } from '../../app/secrets.js'

export interface AuthOptions {
  /** The API bearer token; undefined turns authentication off. */
  readonly token: string | undefined
  readonly metricsPublic: boolean
}

const BEARER = /^bearer\s+(.+)$/i

/** Paths that never need the bearer token: probes, the console's static files, webhooks (signed). */
const isExempt = (path: string, metricsPublic: boolean): boolean =>
  path === '/health' ||
  path.startsWith('/health/') ||
  path === '/' ||
  path === '/console' ||
  path.startsWith('/console/') ||
  path.startsWith('/webhooks/') ||
  (metricsPublic && path === '/metrics')

/**
 * Bearer authentication before anything else happens (body parsing included), compared in
 * constant time. Missing, other scheme or wrong token: 401 `Unauthorized`.
 */
export const authPlugin = fp<AuthOptions>(async (server: FastifyInstance, { token, metricsPublic }) => {
  if (token === undefined) return
  const matchesToken = secretMatcher(token)
  server.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '/'
    if (isExempt(path, metricsPublic)) return
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1]?.trim()
    if (presented === undefined || !matchesToken(presented)) {
      throw new AppError('ORC_UNAUTHORIZED', 'Unauthorized')
    }
  })
})
