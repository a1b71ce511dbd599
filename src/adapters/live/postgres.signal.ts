import pg from 'pg'
import type { EventSignal } from '../../app/ports.js'

export const EVENTS_CHANNEL = 'tasksgodzilla_events'
/** How the listening connection names itself in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'tasksgodzilla-live-events'
const RELISTEN_EVERY_MS = 5_000

export interface PostgresSignal extends EventSignal {
  /** Resolves when the listening connection answers; rejects while it is down. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface PostgresSignalOptions {
  readonly channel?: string
  /** While the listening connection is down, how often a new one is tried. */
  readonly relistenEveryMs?: number
}

interface Listening {
  readonly client: pg.Client
  /** Set once the connection is lost; the connection is then replaced. */
  lost?: Error
}

/**
 * The event signal shared by every process on one Postgres database (LISTEN/NOTIFY), for the
 * scaled mode without Redis: a commit in a worker or another API instance wakes every live stream
 * at once instead of at its next poll. Notifications carry nothing; readers go to the events
 * table, so a lost one only delays a stream until its poll. A lost connection (a Postgres
 * restart, a terminated backend) leaves streams on their poll and the health probe failing until
 * a new one listens; one is tried every `relistenEveryMs`.
 */
export const createPostgresSignal = async (
  url: string,
  options: PostgresSignalOptions = {},
): Promise<PostgresSignal> => {
  const channel = options.channel ?? EVENTS_CHANNEL
  const listeners = new Set<() => void>()
  let closed = false
  const listen = async (): Promise<Listening> => {
    const client = new pg.Client({ connectionString: url, application_name: LISTENER_APPLICATION_NAME })
    const listening: Listening = { client }
    client.on('notification', () => listeners.forEach((listener) => listener()))
    client.on('error', (error) => (listening.lost ??= error))
    client.on('end', () => (listening.lost ??= new Error('Postgres listening connection closed')))
    try {
      await client.connect()
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
    return listening
  }

  let current = await listen()
  let relistening = false
  const relisten = setInterval(() => {
    if (current.lost === undefined || closed || relistening) return
    relistening = true
    listen()
      .then(
        (fresh) => {
          if (closed) return void fresh.client.end().catch(() => undefined)
          void current.client.end().catch(() => undefined)
          current = fresh
          // Commits made while it was down woke no one; a wake now makes streams read them.
          listeners.forEach((listener) => listener())
        },
        () => undefined,
      )
      .finally(() => (relistening = false))
  }, options.relistenEveryMs ?? RELISTEN_EVERY_MS)
  relisten.unref()

  // One connection runs one query at a time: statements queue on a chain, and announcements made
  // while one is being sent fold into a single next one (they carry no data).
  let chain: Promise<unknown> = Promise.resolve()
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work)
    chain = next.catch(() => undefined)
    return next
  }
  let announcing = false
  return {
    notify: () => {
      if (current.lost !== undefined || announcing) return
      announcing = true
      void enqueue(() => {
        announcing = false
        return current.client.query('select pg_notify($1, $2)', [channel, ''])
      }).catch(() => undefined)
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    ping: async () => {
      const { lost, client } = current
      if (lost !== undefined) throw lost
      await enqueue(() => client.query('select 1'))
    },
    close: async () => {
      closed = true
      clearInterval(relisten)
      listeners.clear()
      current.lost ??= new Error('closed')
      await current.client.end().catch(() => undefined)
    },
  }
}
