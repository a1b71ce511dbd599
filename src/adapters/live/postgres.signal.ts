import pg from 'pg'
import { createListenerSet } from '../../app/listener-set.js'
import type { Announced, EventSignal } from '../../app/ports.js'
import type { Logger } from '../../logging.js'
import { decodeAnnouncement, encodeAnnouncement, joinAnnouncements } from './announcement.codec.js'

export const EVENTS_CHANNEL = 'tasksgodzilla_events'
/** How the listening connection names itself in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'tasksgodzilla-live-events'
const CHECK_EVERY_MS = 5_000
/** Connecting, and each statement on the connection (all tiny), must answer within this. */
const ANSWER_WITHIN_MS = 5_000

export interface PostgresSignal extends EventSignal {
  /** Resolves when the listening connection answers; rejects while it is down. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface PostgresSignalOptions {
  readonly channel?: string
  /** How often the connection is checked, and while it is down, a new one tried. */
  readonly checkEveryMs?: number
  readonly logger?: Logger
}

interface Listening {
  readonly client: pg.Client
  /** Set once the connection is lost; it is then replaced. */
  lost?: Error
}

const ignore = (): void => undefined

/**
 * The event signal shared by every process on one Postgres database (LISTEN/NOTIFY), for the
 * scaled mode without Redis: a commit in a worker or another API instance wakes every live stream
 * at once instead of at its next poll. Notifications name the committed events (run, project,
 * type) so that streams they cannot concern skip them; readers still go to the events table, so
 * a lost one only delays a stream until its poll.
 *
 * The connection is lost when it errors, ends, or leaves a statement unanswered (a half-open
 * connection after a host crash never errors by itself); streams then fall back to their poll and
 * `ping` fails, and a new connection is tried at once and then every `checkEveryMs` until one
 * listens. Once it does, this process's streams and every other process are woken, since the
 * commits made meanwhile woke no one.
 */
export const createPostgresSignal = async (
  url: string,
  options: PostgresSignalOptions = {},
): Promise<PostgresSignal> => {
  const channel = options.channel ?? EVENTS_CHANNEL
  const log = options.logger
  // A stream's own failure is its own; the others still wake.
  const listeners = createListenerSet<Announced>((error) =>
    log?.error({ err: error }, 'a live listener failed'),
  )
  const wakeAll = listeners.call
  let closed = false
  let relistening = false
  let lastFailure: Error | undefined
  // `current` is read by the handlers only once it exists: a client that fails while the first
  // connection is being made must not touch it before its declaration has run.
  let started = false

  const markLost = (listening: Listening, error: Error): void => {
    if (listening.lost !== undefined) return
    listening.lost = error
    void listening.client.end().catch(ignore)
    if (!started || listening !== current || closed) return
    log?.warn({ err: error }, 'Live events: the LISTEN connection was lost; streams poll until it is back')
    relisten()
  }

  const listen = async (): Promise<Listening> => {
    const client = new pg.Client({
      connectionString: url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: ANSWER_WITHIN_MS,
      query_timeout: ANSWER_WITHIN_MS,
      keepAlive: true,
    })
    const listening: Listening = { client }
    client.on('notification', (message) => wakeAll(decodeAnnouncement(message.payload ?? '')))
    client.on('error', (error) => markLost(listening, error))
    client.on('end', () => markLost(listening, new Error('Postgres listening connection closed')))
    try {
      await client.connect()
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
    } catch (error) {
      await client.end().catch(ignore)
      throw error
    }
    return listening
  }

  const relisten = (): void => {
    if (closed || relistening || current.lost === undefined) return
    relistening = true
    listen()
      .then(
        (fresh) => {
          if (closed) return void fresh.client.end().catch(ignore)
          current = fresh
          lastFailure = undefined
          log?.info('Live events: listening again')
          wakeAll(undefined)
          signal.notify()
        },
        (error: Error) => {
          if (lastFailure?.message !== error.message)
            log?.warn({ err: error }, 'Live events: could not listen again; trying again')
          lastFailure = error
        },
      )
      .finally(() => (relistening = false))
  }

  let current = await listen()
  started = true

  // One connection runs one query at a time: statements queue on a chain, and announcements made
  // while one waits its turn are joined into it.
  let chain: Promise<unknown> = Promise.resolve()
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work)
    chain = next.catch(ignore)
    return next
  }
  /** Runs `work` on the current connection; a failure or no answer loses the connection. */
  const onConnection = async (work: (client: pg.Client) => Promise<unknown>): Promise<void> => {
    const listening = current
    if (listening.lost !== undefined) throw lastFailure ?? listening.lost
    try {
      await enqueue(() => work(listening.client))
    } catch (error) {
      markLost(listening, error as Error)
      throw error
    }
  }

  const selectOne = () => onConnection((client) => client.query('select 1'))

  const check = setInterval(() => {
    if (current.lost !== undefined) relisten()
    else selectOne().catch(ignore)
  }, options.checkEveryMs ?? CHECK_EVERY_MS)
  check.unref()

  let waiting: { announced: Announced } | undefined
  const signal: PostgresSignal = {
    notify: (news) => {
      if (current.lost !== undefined) return
      if (waiting !== undefined) return void (waiting.announced = joinAnnouncements(waiting.announced, news))
      const announcement = { announced: news }
      waiting = announcement
      const leaveWaiting = () => {
        if (waiting === announcement) waiting = undefined
      }
      onConnection((client) => {
        // From here on, a new commit needs an announcement of its own.
        leaveWaiting()
        return client.query('select pg_notify($1, $2)', [channel, encodeAnnouncement(announcement.announced)])
      }).catch(leaveWaiting)
    },
    subscribe: listeners.add,
    ping: selectOne,
    close: async () => {
      closed = true
      clearInterval(check)
      listeners.clear()
      current.lost ??= new Error('closed')
      await current.client.end().catch(ignore)
    },
  }
  return signal
}
