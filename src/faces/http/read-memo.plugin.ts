import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'
import type { ReadScope, ScopeVersions } from '../../app/ports.js'
import { hashToken } from '../../app/secrets.js'
import { InFlight } from './in-flight.js'
import { batchedPerTurn, readScopeKey } from '../../app/reads-per-turn.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's 200 body is a function of its URL, the presented project token and the stored
     * data, nothing else (no clock, no queue backend, no file system). `run` / `events` /
     * `project`: of the data of the run (`protocol_run_id`), the run with its events, or the
     * project (`project_id`) the URL names, nothing else (see ReadScope), so writes elsewhere leave
     * its kept bodies valid.
     */
    readonly memoize?: boolean | ScopeKind
  }
}

/** A scope a route can name; `memoize: true` is the whole data (`all`). */
type ScopeKind = Exclude<ReadScope['kind'], 'all'>

export interface ReadMemoOptions {
  /**
   * Versions of what routes depend on: the runs and projects of scoped routes, the whole data
   * (`all`) of the others; those asked in one turn of the event loop are read together.
   */
  readonly scopeVersions: ScopeVersions
  /** Bodies kept at most; 0 turns memoization off. */
  readonly maxBytes: number
  /** Where `read_memo_lookups_total{result="hit|miss"}` is counted, when given. */
  readonly registry?: Registry
}

interface Memo {
  readonly body: Buffer
  readonly etag: string
}

interface Pending {
  readonly key: string
  readonly version: string
  /** Hands the computed body (or nothing) to the requests waiting for it. */
  readonly settle: (memo: Memo | undefined) => void
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** Map entry, key string and ETag beside the body: small bodies (`[]`) must not be free to keep. */
const ENTRY_OVERHEAD_BYTES = 200

/** What keeping `memo` under `key` costs against the budget. */
const sizeOf = (key: string, memo: Memo): number => memo.body.length + 2 * key.length + ENTRY_OVERHEAD_BYTES

/**
 * Bodies by key, each with the version it was computed at; a body is served only at that version.
 * A stale body stays until its key is computed again, it is found stale, or the budget needs its
 * room (oldest first).
 */
class VersionedBodies {
  private bytes = 0
  private readonly bodies = new Map<string, Memo & { readonly version: string }>()

  constructor(private readonly maxBytes: number) {}

  /** The body for `key` computed at `version`, if kept. */
  lookup(version: string, key: string): Memo | undefined {
    const kept = this.bodies.get(key)
    if (kept === undefined || kept.version === version) return kept
    this.forget(key, kept)
    return undefined
  }

  /** Keeps a body computed at `version`, in place of any other for `key`. */
  keep(version: string, key: string, memo: Memo): void {
    const size = sizeOf(key, memo)
    if (size > this.maxBytes) return
    const previous = this.bodies.get(key)
    if (previous !== undefined) this.forget(key, previous)
    while (this.bytes + size > this.maxBytes) {
      const [oldestKey, oldest] = this.bodies.entries().next().value!
      this.forget(oldestKey, oldest)
    }
    this.bodies.set(key, { ...memo, version })
    this.bytes += size
  }

  private forget(key: string, memo: Memo): void {
    this.bodies.delete(key)
    this.bytes -= sizeOf(key, memo)
  }
}

/** The project token is part of the key (it decides what a listing shows), kept only as a digest. */
const keyOf = (request: FastifyRequest): string => {
  const token = request.headers['x-project-token']
  if (typeof token !== 'string' || token === '') return request.url
  return `${request.url}\n${hashToken(token)}`
}

/** Any cache between us and the client must ask again each time; the ETag makes asking cheap. */
const CACHE_CONTROL = 'no-cache'

const etagOf = (body: Buffer): string => `"${createHash('sha1').update(body).digest('base64url')}"`

/**
 * Marks the reply as revalidatable with `etag`; true when the caller already holds that body
 * (If-None-Match), so a 304 without body is the answer.
 */
const revalidated = (request: FastifyRequest, reply: FastifyReply, etag: string): boolean => {
  reply.header('etag', etag).header('cache-control', CACHE_CONTROL)
  return isFresh(request, etag)
}

/** If-None-Match compares weakly (RFC 9110 13.1.2): a proxy that marked our tag `W/` still matches. */
const isFresh = (request: FastifyRequest, etag: string): boolean => {
  const presented = request.headers['if-none-match']
  if (presented === undefined) return false
  return presented.split(/\s*,\s*/).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag)
}

/**
 * Serves a route marked `memoize` again from memory while the data is unchanged: the version is
 * read before the handler runs, so a kept body is never older than the version it is kept under.
 * Authorization needs no replay: the same URL and token against the same data decide the same.
 * Every body carries an ETag; `If-None-Match` with it gets a 304.
 */
export const readMemoPlugin = fp<ReadMemoOptions>(async (server: FastifyInstance, options) => {
  if (options.maxBytes === 0) return
  const store = new VersionedBodies(options.maxBytes)
  const versionOf = requestVersion(batchedPerTurn(options.scopeVersions, readScopeKey))
  const pending = new WeakMap<FastifyRequest, Pending>()
  const flights = new InFlight<Memo>()
  const lookups = options.registry && lookupCounter(options.registry)

  // onRequest, after the bearer check: a kept body is the 200 of this exact URL, which therefore
  // passed validation, so a hit skips parsing, validation and the handler alike.
  server.addHook('onRequest', async (request, reply) => {
    const memoize = request.routeOptions.config.memoize
    if (request.method !== 'GET' || memoize === undefined || memoize === false) return
    const version = await versionOf(request, memoize)
    if (version === undefined) return
    const key = keyOf(request)
    // A kept body, else the body another request is computing at this same version. No await
    // between finding no computation and leading one, or two misses could both lead.
    const kept = store.lookup(version, key)
    const flight = kept === undefined ? flights.join(key, version) : undefined
    const memo = kept ?? (flight === undefined ? undefined : await flight)
    lookups?.inc({ result: memo === undefined ? 'miss' : 'hit' })
    if (memo === undefined) {
      pending.set(request, { key, version, settle: flights.lead(key, version) })
      return
    }
    sendMemo(request, reply, memo)
    return reply
  })

  // A miss that ends without a 200 body (an error, a refusal, an aborted request) still releases
  // whoever waits for it; they then compute for themselves.
  const release = async (request: FastifyRequest) => pending.get(request)?.settle(undefined)
  server.addHook('onResponse', release)
  server.addHook('onRequestAbort', release)

  server.addHook('onSend', async (request, reply, payload) => {
    const miss = pending.get(request)
    if (miss === undefined) return payload
    if (reply.statusCode !== 200 || typeof payload !== 'string') {
      miss.settle(undefined)
      return payload
    }
    // Its own memory: a small Buffer.from() is a slice of a shared 8 KiB pool it would keep alive.
    const body = Buffer.allocUnsafeSlow(Buffer.byteLength(payload))
    body.write(payload)
    const memo = { body, etag: etagOf(body) }
    store.keep(miss.version, miss.key, memo)
    miss.settle(memo)
    if (!revalidated(request, reply, memo.etag)) return body
    reply.code(304)
    return null
  })
})

const SCOPE_PARAMS: Record<ScopeKind, string> = {
  run: 'protocol_run_id',
  events: 'protocol_run_id',
  project: 'project_id',
}
const MAX_ID = 2_147_483_647

/**
 * A cursor may name a row outside the scope (on Postgres an event id resumes at that event's
 * position, which another run's event can decide), so a page asked for by cursor is kept under the
 * global version.
 */
const CURSORS = ['before_id', 'after_id']

/** The whole data: what a route without a scope, or a page asked for by cursor, is kept under. */
const WHOLE: ReadScope = { kind: 'all', id: 0 }

/**
 * The scope a request's body is kept under: the route's, or the whole data. Undefined when the
 * scope's id is malformed (validation answers that request, and nothing is kept).
 */
const scopeOf = (request: FastifyRequest, memoize: true | ScopeKind): ReadScope | undefined => {
  const query = request.query as Record<string, unknown> | undefined
  if (memoize === true || CURSORS.some((name) => query?.[name] !== undefined)) return WHOLE
  const raw = (request.params as Record<string, string | undefined>)[SCOPE_PARAMS[memoize]]
  const id = raw !== undefined && /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : Number.NaN
  return id <= MAX_ID ? { kind: memoize, id } : undefined
}

/**
 * The version a request's body is kept under, named by its scope's kind. Undefined when none can
 * be vouched for (then the request is computed and nothing is kept).
 */
const requestVersion =
  (scopeVersion: (scope: ReadScope) => Promise<string | undefined>) =>
  async (request: FastifyRequest, memoize: true | ScopeKind): Promise<string | undefined> => {
    const scope = scopeOf(request, memoize)
    if (scope === undefined) return undefined
    const version = await scopeVersion(scope)
    return version === undefined ? undefined : `${scope.kind}:${version}`
  }

const sendMemo = (request: FastifyRequest, reply: FastifyReply, memo: Memo): void => {
  if (revalidated(request, reply, memo.etag)) reply.code(304).send()
  else reply.header('content-type', JSON_TYPE).send(memo.body)
}

const LOOKUPS = 'read_memo_lookups_total'

/** One counter per registry, however many servers are built on it. */
const lookupCounter = (registry: Registry): Counter<'result'> =>
  (registry.getSingleMetric(LOOKUPS) as Counter<'result'> | undefined) ??
  new Counter({
    name: LOOKUPS,
    help: 'Memoizable GETs by whether a kept body answered them (hit) or they were computed (miss)',
    labelNames: ['result'],
    registers: [registry],
  })
