import { isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../domain/app-error.js'

export interface HostOriginOptions {
  /** The address the server listens on (`0.0.0.0` and `::` mean every interface). */
  readonly bindHost: string
  /** `TASKSGODZILLA_ALLOWED_HOSTS`: more host names callers may use; `*` accepts any. */
  readonly allowedHosts: readonly string[]
  /** Whether `TASKSGODZILLA_API_TOKEN` is set. */
  readonly tokenConfigured: boolean
  /** `TASKSGODZILLA_CORS_ORIGINS`: other origins whose pages may change state. */
  readonly corsOrigins: readonly string[]
}

const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', ''])
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Two browser-borne attacks on a server without a token, refused before anything else runs:
 * - DNS rebinding: a page on `evil.example` re-resolves its name to 127.0.0.1 and reads the API.
 *   Its requests carry `Host: evil.example`, so only known host names are served (421). IP
 *   literals are always fine: a rebinding page can only be reached through a name.
 * - Cross-site requests: any page can POST to 127.0.0.1. A state-changing request whose `Origin`
 *   is neither this server nor a configured CORS origin is refused (403) when no token is set;
 *   with a token the browser has nothing to attach, so the token check suffices. Webhooks and the
 *   CLI send no `Origin` and pass.
 * With a token and a bind on every interface, any host name is served unless
 * TASKSGODZILLA_ALLOWED_HOSTS pins them: the token guards everything a rebinding page could reach.
 */
export const hostOriginPlugin = fp<HostOriginOptions>(async (server: FastifyInstance, options) => {
  const isAllowedHost = hostMatcher(options)
  const origins = new Set(options.corsOrigins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')))
  server.addHook('onRequest', async (request) => {
    const host = request.headers.host
    if (host !== undefined && !isAllowedHost(host))
      throw new AppError(
        'ORC_HOST_NOT_ALLOWED',
        `Host ${JSON.stringify(host.slice(0, 200))} is not served here; add its name to TASKSGODZILLA_ALLOWED_HOSTS if it is yours`,
      )
    if (!options.tokenConfigured && STATE_CHANGING.has(request.method)) refuseCrossSite(request, origins)
  })
})

const hostMatcher = (options: HostOriginOptions): ((hostHeader: string) => boolean) => {
  const names = new Set(['localhost', ...options.allowedHosts.map(normalizeName)])
  const bind = normalizeName(options.bindHost)
  if (!WILDCARD_BINDS.has(bind)) names.add(bind)
  const anyHost =
    names.has('*') ||
    (options.tokenConfigured && WILDCARD_BINDS.has(bind) && options.allowedHosts.length === 0)
  return (hostHeader) => {
    if (anyHost) return true
    const name = hostNameOf(hostHeader)
    return name !== undefined && (isIP(name) !== 0 || names.has(name))
  }
}

const refuseCrossSite = (request: FastifyRequest, trusted: ReadonlySet<string>): void => {
  const origin = request.headers.origin
  if (origin === undefined) {
    // Browsers too old to send Origin still send Sec-Fetch-Site on cross-site requests.
    if (request.headers['sec-fetch-site'] === 'cross-site') throw crossSite('a cross-site page')
    return
  }
  const normalized = origin.toLowerCase().replace(/\/+$/, '')
  if (trusted.has(normalized)) return
  const sameHost = request.headers.host?.toLowerCase()
  if (sameHost !== undefined && /^https?:\/\//.test(normalized) && normalized.split('//')[1] === sameHost)
    return
  throw crossSite(`origin ${JSON.stringify(origin.slice(0, 200))}`)
}

const crossSite = (who: string): AppError =>
  new AppError(
    'ORC_ORIGIN_NOT_ALLOWED',
    `Refused a state-changing request from ${who}: without TASKSGODZILLA_API_TOKEN only this server's own pages and TASKSGODZILLA_CORS_ORIGINS may change state`,
  )

/** `Example.COM.` → `example.com`; `[::1]` → `::1`. */
const normalizeName = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1')

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), or undefined when malformed. */
const hostNameOf = (header: string): string | undefined => {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/i.exec(header.trim())
  return match?.[1] === undefined ? undefined : normalizeName(match[1])
}
