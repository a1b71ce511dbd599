import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  createPostgresSignal,
  LISTENER_APPLICATION_NAME,
  type PostgresSignal,
} from '../../src/adapters/live/postgres.signal.js'
import { createTestDatabase, queryOnce, unavailable, type TestDatabase } from '../support/databases.js'

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

  const databaseName = (): string => new URL(url).pathname.slice(1)
  const listenerPids = async (): Promise<number[]> =>
    (
      await queryOnce<{ pid: number }>(
        'select pid from pg_stat_activity where datname = $1 and application_name = $2 order by pid',
        [databaseName(), LISTENER_APPLICATION_NAME],
      )
    ).map((row) => row.pid)
  /** As a Postgres restart would: ends every listening connection on the test database. */
  const terminateListeners = async (): Promise<void> => {
    await queryOnce(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = $2',
      [databaseName(), LISTENER_APPLICATION_NAME],
    )
  }
  const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
    Promise.race([
      promise,
      new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
    ])

  it('listens again on a new connection after losing its own, and wakes its streams there', async () => {
    const listener = await createPostgresSignal(url, { checkEveryMs: 100 })
    const announcer = await createPostgresSignal(url, { checkEveryMs: 100 })
    opened.push(listener, announcer)
    let wakes = 0
    listener.subscribe(() => (wakes += 1))
    const before = await listenerPids()
    expect(before).toHaveLength(2)

    await terminateListeners()
    await vi.waitFor(
      async () => {
        const now = await listenerPids()
        expect(now).toHaveLength(2)
        expect(now.filter((pid) => before.includes(pid))).toEqual([])
      },
      { timeout: 5_000, interval: 50 },
    )
    await vi.waitFor(() => expect(listener.ping()).resolves.toBeUndefined(), { timeout: 5_000, interval: 50 })
    await vi.waitFor(() => expect(announcer.ping()).resolves.toBeUndefined(), {
      timeout: 5_000,
      interval: 50,
    })
    // Commits made while it was down woke no one, so its streams are woken once it listens again.
    expect(wakes).toBeGreaterThan(0)

    const seen = wakes
    const woken = nextWake(listener)
    announcer.notify()
    await within(woken, 3_000)
    expect(wakes).toBeGreaterThan(seen)
  })

  it('keeps failing its health check while it cannot connect, and recovers once it can', async () => {
    const listener = await createPostgresSignal(url, { checkEveryMs: 100 })
    opened.push(listener)
    await queryOnce(`alter database ${databaseName()} with allow_connections false`)
    try {
      await terminateListeners()
      await vi.waitFor(() => expect(listener.ping()).rejects.toThrow(), { timeout: 3_000, interval: 20 })
      // Several attempts fail meanwhile; the check keeps failing, with the latest attempt's error.
      await new Promise((resolve) => setTimeout(resolve, 500))
      await expect(listener.ping()).rejects.toThrow(/not currently accepting connections/)
    } finally {
      await queryOnce(`alter database ${databaseName()} with allow_connections true`)
    }
    await vi.waitFor(() => expect(listener.ping()).resolves.toBeUndefined(), { timeout: 5_000, interval: 50 })
  })
})
