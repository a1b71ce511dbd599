import { Redis } from 'ioredis'
import type { EventSignal } from '../../app/ports.js'

export const EVENTS_CHANNEL = 'tasksgodzilla:events'

export interface RedisSignal extends EventSignal {
  /** Resolves when Redis answers a PING. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * The event signal shared by every process on one Redis: a commit in a worker wakes the live
 * streams of every API instance. Messages carry nothing; readers go to the database.
 */
export const createRedisSignal = async (url: string, channel = EVENTS_CHANNEL): Promise<RedisSignal> => {
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
  const listeners = new Set<() => void>()
  subscriber.on('message', () => listeners.forEach((listener) => listener()))
  await subscriber.subscribe(channel)
  return {
    notify: () => void publisher.publish(channel, '1').catch(() => undefined),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    ping: async () => {
      await publisher.ping()
    },
    close: async () => {
      subscriber.disconnect()
      publisher.disconnect()
    },
  }
}
