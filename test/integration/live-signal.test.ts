import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createPostgresSignal,
  LISTENER_APPLICATION_NAME,
  type PostgresSignal,
} from '../../src/adapters/live/postgres.signal.js'
import { createTestDatabase, PG_URL, unavailable, type TestDatabase } from '../support/databases.js'

const nextWake = (signal: PostgresSignal): Promise<void> =>
  new Promise((resolve) => {
    const unsubscribe = signal.subscribe(() => {
      unsubscribe()
      resolve()
    })
  })

describe.skipIf(unavailable('postgres'))('Postgres live signal (LISTEN/NOTIFY, no Redis)', () => {
  let database: TestDatabase
  let apiA: PostgresSignal
  let worker: PostgresSignal

  beforeAll(async () => {
    database = await createTestDatabase('postgres')
    const url = database.target.dialect === 'postgres' ? database.target.url : ''
    ;[apiA, worker] = await Promise.all([createPostgresSignal(url), createPostgresSignal(url)])
  })
  afterAll(async () => {
    await apiA?.close()
    await worker?.close()
    await database?.drop()
  })

  it('wakes the streams of another process when one process announces a commit', async () => {
    const woken = nextWake(apiA)
    worker.notify()
    await woken
    const back = nextWake(worker)
    apiA.notify()
    await back
  })

  it('stops calling a listener once it unsubscribes, and reports a closed connection as unhealthy', async () => {
    const calls: number[] = []
    const unsubscribe = apiA.subscribe(() => calls.push(1))
    const woken = nextWake(apiA)
    worker.notify()
    await woken
    expect(calls.length).toBeGreaterThan(0)
    unsubscribe()
    // A wake already in flight (an earlier test's announcement) may have reached it before now.
    const seen = calls.length
    const again = nextWake(apiA)
    worker.notify()
    await again
    expect(calls).toHaveLength(seen)

    await expect(worker.ping()).resolves.toBeUndefined()
    await worker.close()
    await expect(worker.ping()).rejects.toThrow()
  })
})

describe.skipIf(unavailable('postgres'))('Postgres live signal when its connection is lost', () => {
  let database: TestDatabase
  let url: string
  const opened: PostgresSignal[] = []

  beforeAll(async () => {
    database = await createTestDatabase('postgres')
    url = database.target.dialect === 'postgres' ? database.target.url : ''
  })
  afterAll(async () => {
    await Promise.all(opened.map((signal) => signal.close()))
    await database?.drop()
  })

  /** As a Postgres restart would: ends every listening connection on the test database. */
  const terminateListeners = async (): Promise<number> => {
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    try {
      const { rows } = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = $2',
        [new URL(url).pathname.slice(1), LISTENER_APPLICATION_NAME],
      )
      return rows.length
    } finally {
      await admin.end()
    }
  }

  it('reports the loss, listens again on a new connection, and wakes its streams there', async () => {
    const listener = await createPostgresSignal(url, { relistenEveryMs: 100 })
    const announcer = await createPostgresSignal(url, { relistenEveryMs: 100 })
    opened.push(listener, announcer)
    let wakes = 0
    listener.subscribe(() => (wakes += 1))

    expect(await terminateListeners()).toBe(2)
    await vi.waitFor(() => expect(listener.ping()).rejects.toThrow(), { timeout: 2_000, interval: 20 })
    await vi.waitFor(() => expect(listener.ping()).resolves.toBeUndefined(), { timeout: 5_000, interval: 50 })
    await vi.waitFor(() => expect(announcer.ping()).resolves.toBeUndefined(), {
      timeout: 5_000,
      interval: 50,
    })
    // Commits made while it was down woke no one, so its streams are woken once it listens again.
    expect(wakes).toBeGreaterThan(0)

    const before = wakes
    const woken = nextWake(listener)
    announcer.notify()
    await woken
    expect(wakes).toBeGreaterThan(before)
  })
})
