import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'
import type { DataVersion } from '../../app/ports.js'
import { hashToken } from '../../app/secrets.js'
import { sharedPerTurn } from './shared-per-turn.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's 200 body is a function of its URL, the presented project token and the stored
     * data, nothing else (no clock, no queue backend, no file system).
     */
    readonly memoize?: boolean
  }
}

export interface ReadMemoOptions {
  readonly dataVersion: DataVersion
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
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** Map entry, key string and ETag beside the body: small bodies (`[]`) must not be free to keep. */
const ENTRY_OVERHEAD_BYTES = 200

/** What keeping `memo` under `key` costs against the budget. */
const sizeOf = (key: string, memo: Memo): number => memo.body.length + 2 * key.length + ENTRY_OVERHEAD_BYTES

/**
 * The bodies computed at one data version. Any other version makes them all stale at once, so
 * the store switches wholesale instead of tracking which tables a body read.
 */
class VersionedBodies {
  private version = ''
  private bytes = 0
  private readonly bodies = new Map<string, Memo>()

  constructor(private readonly maxBytes: number) {}

  /** The body for `key` at `version`; seeing a new version drops everything older. */
  lookup(version: string, key: string): Memo | undefined {
    if (version === this.version) return this.bodies.get(key)
    this.bodies.clear()
    this.bytes = 0
    this.version = version
    return undefined
  }

  /** Keeps a body computed at `version`, unless the data has moved on since. */
  keep(version: string, key: string, memo: Memo): void {
    const size = sizeOf(key, memo)
    if (version !== this.version || size > this.maxBytes) return
    const previous = this.bodies.get(key)
    if (previous !== undefined) this.forget(key, previous)
    while (this.bytes + size > this.maxBytes) {
      const [oldestKey, oldest] = this.bodies.entries().next().value!
      this.forget(oldestKey, oldest)
    }
    this.bodies.set(key, memo)
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
  const dataVersion = sharedPerTurn(options.dataVersion)
  const pending = new WeakMap<FastifyRequest, Pending>()
  const lookups = options.registry && lookupCounter(options.registry)

  // onRequest, after the bearer check: a kept body is the 200 of this exact URL, which therefore
  // passed validation, so a hit skips parsing, validation and the handler alike.
  server.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.routeOptions.config.memoize !== true) return
    const version = await dataVersion()
    if (version === undefined) return
    const key = keyOf(request)
    const memo = store.lookup(version, key)
    lookups?.inc({ result: memo === undefined ? 'miss' : 'hit' })
    if (memo === undefined) {
      pending.set(request, { key, version })
      return
    }
    sendMemo(request, reply, memo)
    return reply
  })

  server.addHook('onSend', async (request, reply, payload) => {
    const miss = pending.get(request)
    if (miss === undefined || reply.statusCode !== 200 || typeof payload !== 'string') return payload
    // Its own memory: a small Buffer.from() is a slice of a shared 8 KiB pool it would keep alive.
    const body = Buffer.allocUnsafeSlow(Buffer.byteLength(payload))
    body.write(payload)
    const memo = { body, etag: etagOf(body) }
    store.keep(miss.version, miss.key, memo)
    if (!revalidated(request, reply, memo.etag)) return body
    reply.code(304)
    return null
  })
})

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
