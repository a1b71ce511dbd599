import { Redis } from 'ioredis'
import { createListenerSet } from '../../app/listener-set.js'
import type { Announced, EventSignal } from '../../app/ports.js'
import { decodeAnnouncement, encodeAnnouncement } from './announcement.codec.js'

export const EVENTS_CHANNEL = 'tasksgodzilla:events'

export interface RedisSignal extends EventSignal {
  /** Resolves when Redis answers a PING. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * The event signal shared by every process on one Redis: a commit in a worker wakes the live
 * streams of every API instance. Messages name the committed events (run, project, type) so that
 * streams they cannot concern skip them; readers still go to the database.
 */
export const createRedisSignal = async (
  url: string,
  onError: (error: unknown) => void,
  channel = EVENTS_CHANNEL,
): Promise<RedisSignal> => {
  const publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  const subscriber = new Redis(url, { lazyConnect: true })
  // ioredis reconnects by itself; without listeners every failed try prints a stack trace.
  for (const client of [publisher, subscriber]) client.on('error', () => undefined)
  try {
    await Promise.all([publisher.connect(), subscriber.connect()])
  } catch (error) {
    publisher.disconnect()
    subscriber.disconnect()
    throw error
  }
  // A listener's throw inside the client's 'message' handler would end the process.
  const listeners = createListenerSet<Announced>(onError)
  subscriber.on('message', (_channel: string, message: string) => listeners.call(decodeAnnouncement(message)))
  await subscriber.subscribe(channel)
  return {
    notify: (news) => void publisher.publish(channel, encodeAnnouncement(news)).catch(() => undefined),
    subscribe: listeners.add,
    ping: async () => {
      await publisher.ping()
    },
    close: async () => {
      subscriber.disconnect()
      publisher.disconnect()
    },
  }
}
