import pg from 'pg'
import { Redis } from 'ioredis'

/**
 * Announces which real backends this run uses. When a URL is given the backend must answer:
 * CI sets both, so an unreachable service fails the run instead of silently skipping half of it.
 */
export default async function setup(): Promise<void> {
  const pgUrl = process.env.TASKSGODZILLA_TEST_PG_URL
  const redisUrl = process.env.TASKSGODZILLA_TEST_REDIS_URL
  if (pgUrl) {
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    await client.query('select 1')
    await client.end()
    console.log('[backends] Postgres tests enabled (TASKSGODZILLA_TEST_PG_URL)')
  } else {
    console.log('[backends] Postgres tests SKIPPED: set TASKSGODZILLA_TEST_PG_URL to run them')
  }
  if (redisUrl) {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
    await redis.connect()
    await redis.ping()
    redis.disconnect()
    console.log('[backends] Redis tests enabled (TASKSGODZILLA_TEST_REDIS_URL)')
  } else {
    console.log('[backends] Redis tests SKIPPED: set TASKSGODZILLA_TEST_REDIS_URL to run them')
  }
}
