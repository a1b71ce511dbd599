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

/**
 * A connection for BullMQ: `maxRetriesPerRequest: null` so blocking commands survive a Redis
 * restart (BullMQ requires it for workers). Errors are logged by the caller, not thrown.
 */
export const openRedis = (url: string, onError: (error: Error) => void): Redis => {
  const redis = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true })
  redis.on('error', onError)
  return redis
}
