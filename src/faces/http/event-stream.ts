import type { FastifyReply, FastifyRequest } from 'fastify'
import type { EventWatch } from '../../app/events/watch-events.js'
import { isAppError } from '../../domain/app-error.js'
import type { EventWithContext } from '../../domain/event.js'
import { toEventOut } from './presenters.js'

const HEARTBEAT_MS = 15_000
/** Safety net for a lost wake-up signal (and the only feed between API instances without Redis). */
const POLL_MS = 2_000
const BATCH = 500
/**
 * A commit can be held back while an older transaction is still running (Postgres event
 * positions); one more read shortly after each signal picks it up without waiting for the poll.
 */
const SETTLE_MS = 200
const ACCESS_LOST: ReadonlySet<string> = new Set(['ORC_PROJECT_TOKEN_MISSING', 'ORC_PROJECT_ACCESS_DENIED'])

/**
 * The SSE message of an event, made once per event object: streams at the same position share
 * one page (makeWatchEvents), so every dashboard sends the same objects.
 */
const messages = new WeakMap<EventWithContext, string>()
const messageOf = (event: EventWithContext): string => {
  let message = messages.get(event)
  if (message === undefined) {
    message = `id: ${event.id}\ndata: ${JSON.stringify(toEventOut(event))}\n\n`
    messages.set(event, message)
  }
  return message
}

/** The id to resume after: `Last-Event-ID` header, else `last_event_id` query, else undefined. */
export const resumeIdOf = (request: FastifyRequest, queryValue: number | undefined): number | undefined => {
  const header = request.headers['last-event-id']
  const parsed = typeof header === 'string' && /^\d{1,12}$/.test(header) ? Number(header) : undefined
  return parsed ?? queryValue
}

/**
 * Streams events as Server-Sent Events: first what was committed after the resume id, then every
 * new commit as it is announced. Each message carries the event id, so a reconnecting client
 * resumes exactly where it stopped.
 */
export const streamEvents = async (
  request: FastifyRequest,
  reply: FastifyReply,
  watch: EventWatch,
  resumeAfter: number | undefined,
  openStreams: Set<() => void>,
): Promise<void> => {
  let cursor = resumeAfter ?? (await watch.latestId())
  let reading = false
  let again = false
  let closed = false
  reply.hijack()
  const out = reply.raw
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  })
  out.write('retry: 2000\n\n')

  const drain = async (): Promise<void> => {
    if (reading) return void (again = true)
    reading = true
    try {
      do {
        again = false
        for (;;) {
          const events = await watch.after(cursor, BATCH)
          for (const event of events) out.write(messageOf(event))
          if (events.length > 0) cursor = events[events.length - 1]!.id
          if (events.length < BATCH || closed) break
        }
      } while (again && !closed)
    } catch (error) {
      // The caller's project token no longer opens what it watches (rotated or newly set).
      if (isAppError(error) && ACCESS_LOST.has(error.code)) return end()
      request.log.warn({ err: error }, 'event stream read failed')
    } finally {
      reading = false
    }
  }

  // The poll reads only when something was committed since the last poll's read: an idle stream
  // then costs one shared version read per poll instead of two queries (token set, events).
  let polledAt: string | undefined
  const poll = async (): Promise<void> => {
    const version = await watch.pollVersion()
    if (version !== undefined && version === polledAt) return
    polledAt = version
    await drain()
  }

  let settle: NodeJS.Timeout | undefined
  const unsubscribe = watch.signal.subscribe((announced) => {
    if (!watch.wakes(announced)) return
    void drain()
    clearTimeout(settle)
    settle = setTimeout(() => void drain(), SETTLE_MS)
  })
  const polling = setInterval(() => void poll().catch(() => undefined), POLL_MS)
  const heartbeat = setInterval(() => out.write(': ping\n\n'), HEARTBEAT_MS)
  const end = (): void => {
    closed = true
    unsubscribe()
    clearTimeout(settle)
    clearInterval(polling)
    clearInterval(heartbeat)
    openStreams.delete(end)
    out.end()
  }
  openStreams.add(end)
  request.raw.on('close', end)
  polledAt = await watch.pollVersion().catch(() => undefined)
  await drain()
}
