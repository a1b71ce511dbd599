import pg from 'pg'
import type { EventSignal } from '../../app/ports.js'

export const EVENTS_CHANNEL = 'tasksgodzilla_events'

export interface PostgresSignal extends EventSignal {
  /** Resolves when the listening connection answers; rejects once it is lost. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * The event signal shared by every process on one Postgres database (LISTEN/NOTIFY), for the
 * scaled mode without Redis: a commit in a worker or another API instance wakes every live stream
 * at once instead of at its next poll. Notifications carry nothing; readers go to the events
 * table, so a lost one only delays a stream until its poll.
 */
export const createPostgresSignal = async (
  url: string,
  channel = EVENTS_CHANNEL,
): Promise<PostgresSignal> => {
  const client = new pg.Client({ connectionString: url })
  const listeners = new Set<() => void>()
  let lost: Error | undefined
  client.on('notification', () => listeners.forEach((listener) => listener()))
  // A dropped connection leaves streams on their poll; the health probe reports it.
  client.on('error', (error) => (lost = error))
  client.on('end', () => (lost ??= new Error('Postgres listening connection closed')))
  await client.connect()
  await client.query(`LISTEN ${client.escapeIdentifier(channel)}`)
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
      if (lost !== undefined || announcing) return
      announcing = true
      void enqueue(() => {
        announcing = false
        return client.query('select pg_notify($1, $2)', [channel, ''])
      }).catch(() => undefined)
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    ping: async () => {
      if (lost !== undefined) throw lost
      await enqueue(() => client.query('select 1'))
    },
    close: async () => {
      listeners.clear()
      lost ??= new Error('closed')
      await client.end().catch(() => undefined)
    },
  }
}
