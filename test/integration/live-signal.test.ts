import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresSignal, type PostgresSignal } from '../../src/adapters/live/postgres.signal.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'

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
