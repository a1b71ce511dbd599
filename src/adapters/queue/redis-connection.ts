import { Redis } from 'ioredis'
import { AppError } from '../../domain/app-error.js'

const PROBE_TIMEOUT_MS = 3_000

/** The URL without its password, for messages and logs. */
export const redactRedisUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, '//***@')

/**
 * Checks once that Redis answers, so start-up fails with one clear line (ORC_QUEUE_UNAVAILABLE)
 * instead of a worker that retries a dead connection forever.
 */
export const assertRedisReachable = async (url: string): Promise<void> => {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: PROBE_TIMEOUT_MS,
    retryStrategy: () => null,
  })
  // The socket error (ECONNREFUSED, ENOTFOUND…) says more than connect()'s "Connection is closed".
  let socketError: Error | undefined
  probe.on('error', (error: Error) => (socketError ??= error))
  try {
    await probe.connect()
    await probe.ping()
  } catch (error) {
    const cause = socketError ?? error
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new AppError(
      'ORC_QUEUE_UNAVAILABLE',
      `Redis at ${redactRedisUrl(url)} is unreachable (${redactRedisUrl(reason)}); check TASKSGODZILLA_REDIS_URL`,
    )
  } finally {
    probe.disconnect()
  }
}

/** How long a command a request waits on may take, connecting included. */
const FAIL_FAST_MS = 2_000

/**
 * A connection for commands a request waits on: while Redis is unreachable they fail at once
 * instead of waiting in the client's offline queue for it to return (it reconnects by itself),
 * and a command Redis does not answer (a half-open connection) fails after FAIL_FAST_MS.
 * Resolves once connected; a connection that could not be made is closed.
 */
export const openFailFastRedis = async (url: string, onError: (error: Error) => void): Promise<Redis> => {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Ready once connected: a Redis still loading its data after a restart answers LOADING at
    // once, where the ready check would wait for the load to end.
    enableReadyCheck: false,
    connectTimeout: FAIL_FAST_MS,
    commandTimeout: FAIL_FAST_MS,
  })
  redis.on('error', onError)
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    throw error
  }
  return redis
}

/**
 * A connection for BullMQ: `maxRetriesPerRequest: null` so blocking commands survive a Redis
 * restart (BullMQ requires it for workers). Errors are logged by the caller, not thrown.
 */
export const openRedis = (url: string, onError: (error: Error) => void): Redis => {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true })
  redis.on('error', onError)
  return redis
}
