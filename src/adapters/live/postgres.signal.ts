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
  /** Its server process, which its own NOTIFYs come from. */
  pid?: number
}

/** What a process sends once it listens: not a wake-up, only news that it is there. */
const HELLO = 'hello'

/** Whether a listening connection of another process is open on this database. */
const OTHER_LISTENERS = `select exists (select 1 from pg_stat_activity
  where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()) as others`

/**
 * Names the connection as the count looks for it (an `application_name` in the database URL
 * would otherwise win) and reads its server process.
 */
const NAME_CONNECTION = `select set_config('application_name', $1, false) as name, pg_backend_pid() as pid`

const ignore = (): void => undefined

/**
 * The event signal shared by every process on one Postgres database (LISTEN/NOTIFY), for the
 * scaled mode without Redis: a commit in a worker or another API instance wakes every live stream
 * at once instead of at its next poll. Notifications name the committed events (run, project,
 * type) so that streams they cannot concern skip them; readers still go to the events table, so
 * a lost one only delays a stream until its poll.
 *
 * This process's streams are woken directly, not by the echo of its own NOTIFY, and no NOTIFY is
 * sent while no other process listens (a single server: four statements a step saved). Another
 * process is known by its listening connection (counted when this one listens and at each
 * check) or by any notification it sends, beginning with the hello it sends once it listens.
 *
 * The connection is lost when it errors, ends, or leaves a statement unanswered (a half-open
 * connection after a host crash never errors by itself); other processes' streams then fall back
 * to their poll for this one's commits and `ping` fails, and a new connection is tried at once
 * and then every `checkEveryMs` until one listens. Once it does, this process's streams and every
 * other process are woken, since the commits made meanwhile woke no one elsewhere.
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
  // Until a count says otherwise, assume others listen: a NOTIFY too many costs a statement.
  let othersListen = true
  // Notifications from other processes so far: a count sent before the latest one is outdated.
  let heardFromOthers = 0
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
    client.on('notification', (message) => {
      // Its own announcements were delivered here when they were made.
      if (message.processId === listening.pid) return
      heardFromOthers += 1
      othersListen = true
      if (message.payload !== HELLO) wakeAll(decodeAnnouncement(message.payload ?? ''))
    })
    client.on('error', (error) => markLost(listening, error))
    client.on('end', () => markLost(listening, new Error('Postgres listening connection closed')))
    try {
      await client.connect()
      const named = await client.query<{ pid: number }>(NAME_CONNECTION, [LISTENER_APPLICATION_NAME])
      listening.pid = named.rows[0]?.pid
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
      // Listening first: a process the count misses starts after it, and its hello is heard.
      await countOthers(listening)
      // A process already listening learns of this one.
      await client.query('select pg_notify($1, $2)', [channel, HELLO])
    } catch (error) {
      await client.end().catch(ignore)
      throw error
    }
    return listening
  }

  const countOthers = async ({ client }: Listening): Promise<void> => {
    const heardBefore = heardFromOthers
    try {
      const { rows } = await client.query<{ others: boolean }>(OTHER_LISTENERS, [LISTENER_APPLICATION_NAME])
      // A notification that arrived meanwhile came from a process the count may have missed.
      othersListen = rows[0]?.others === true || heardFromOthers !== heardBefore
    } catch (error) {
      // The server refused the count (pg_stat_activity locked down): the connection is fine, and
      // every announcement is sent, as when none was counted.
      if (!(error instanceof pg.DatabaseError)) throw error
      othersListen = true
    }
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
          // Commits made meanwhile woke no other process: every stream here and there reads.
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
  const onConnection = async (work: (listening: Listening) => Promise<unknown>): Promise<void> => {
    const listening = current
    if (listening.lost !== undefined) throw lastFailure ?? listening.lost
    try {
      await enqueue(() => work(listening))
    } catch (error) {
      markLost(listening, error as Error)
      throw error
    }
  }

  const selectOne = () => onConnection(({ client }) => client.query('select 1'))

  const check = setInterval(() => {
    if (current.lost !== undefined) relisten()
    else onConnection(countOthers).catch(ignore)
  }, options.checkEveryMs ?? CHECK_EVERY_MS)
  check.unref()

  let waiting: { announced: Announced } | undefined
  const signal: PostgresSignal = {
    notify: (news) => {
      wakeAll(news)
      if (current.lost !== undefined || !othersListen) return
      if (waiting !== undefined) return void (waiting.announced = joinAnnouncements(waiting.announced, news))
      const announcement = { announced: news }
      waiting = announcement
      const leaveWaiting = () => {
        if (waiting === announcement) waiting = undefined
      }
      onConnection(({ client }) => {
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
