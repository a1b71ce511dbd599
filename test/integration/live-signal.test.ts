import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import {
  createPostgresSignal,
  EVENTS_CHANNEL,
  LISTENER_APPLICATION_NAME,
  type PostgresSignal,
} from '../../src/adapters/live/postgres.signal.js'
import type { Announced } from '../../src/app/ports.js'
import { createTestDatabase, queryOnce, unavailable, type TestDatabase } from '../support/databases.js'

const nextWake = (signal: PostgresSignal): Promise<void> =>
  new Promise((resolve) => {
    const unsubscribe = signal.subscribe(() => {
      unsubscribe()
      resolve()
    })
  })

const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
  ])

/**
 * A database of the describe block's own, so that the listeners other blocks open are not
 * counted; what is passed to `closeLater` is closed after the block's tests, before the drop.
 */
const ownDatabase = () => {
  let database: TestDatabase | undefined
  const opened: Array<{ close(): Promise<unknown> }> = []
  const own = { url: '', closeLater: (...ones: Array<{ close(): Promise<unknown> }>) => opened.push(...ones) }
  beforeAll(async () => {
    database = await createTestDatabase('postgres')
    own.url = database.target.dialect === 'postgres' ? database.target.url : ''
  })
  afterAll(async () => {
    await Promise.all(opened.map((one) => one.close()))
    await database?.drop()
  })
  return own
}

describe.skipIf(unavailable('postgres'))('Postgres live signal (LISTEN/NOTIFY, no Redis)', () => {
  const db = ownDatabase()
  let apiA: PostgresSignal
  let worker: PostgresSignal

  beforeAll(async () => {
    // One after the other: the worker counts the API's connection when it starts listening, and
    // the API hears the worker's hello before anything the worker announces.
    apiA = await createPostgresSignal(db.url)
    worker = await createPostgresSignal(db.url)
    db.closeLater(apiA, worker)
  })

  it('wakes the streams of another process when one process announces a commit', async () => {
    const woken = nextWake(apiA)
    worker.notify()
    await woken
    const back = nextWake(worker)
    apiA.notify()
    await back
  })

  it("calls its own listeners once per announcement, at once, not again on its NOTIFY's echo", async () => {
    const calls: Announced[] = []
    const unsubscribe = apiA.subscribe((announced) => calls.push(announced))
    const news = [{ id: 7, projectId: 1, protocolRunId: 2, eventType: 'step_started' }]
    // Once the worker's announcement is heard, so was its hello: the API then announces to it.
    const heardHere = nextWake(apiA)
    worker.notify()
    await heardHere
    calls.length = 0
    const heardElsewhere = nextWake(worker)
    apiA.notify(news)
    expect(calls).toEqual([news])
    await heardElsewhere
    await apiA.ping()
    unsubscribe()
    expect(calls).toEqual([news])
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
  const db = ownDatabase()

  const databaseName = (): string => new URL(db.url).pathname.slice(1)
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
  it('listens again on a new connection after losing its own, and wakes its streams there', async () => {
    const listener = await createPostgresSignal(db.url, { checkEveryMs: 100 })
    const announcer = await createPostgresSignal(db.url, { checkEveryMs: 100 })
    db.closeLater(listener, announcer)
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
    const listener = await createPostgresSignal(db.url, { checkEveryMs: 100 })
    db.closeLater(listener)
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

describe.skipIf(unavailable('postgres'))('Postgres live signal with no other process listening', () => {
  const db = ownDatabase()

  const news = [{ id: 3, projectId: 1, protocolRunId: 1, eventType: 'step_completed' }]

  /**
   * A plain connection on the signal's channel, not counted as a listener (another application
   * name). `heardBefore` sends a marker on a channel of its own and resolves with the payloads
   * the signal's channel carried before it: notifications reach a listener in commit order.
   */
  const openSpy = async () => {
    const client = new pg.Client({ connectionString: db.url, application_name: 'spy' })
    await client.connect()
    db.closeLater({ close: () => client.end() })
    const heard: string[] = []
    let marked: () => void = () => undefined
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL) heard.push(message.payload ?? '')
      else marked()
    })
    await client.query(`listen ${EVENTS_CHANNEL}`)
    await client.query('listen spy_marker')
    return {
      heardBefore: async (): Promise<string[]> => {
        const done = new Promise<void>((resolve) => (marked = resolve))
        await client.query(`notify spy_marker`)
        await done
        return heard.splice(0)
      },
    }
  }

  it('wakes its own streams at once and sends no NOTIFY', async () => {
    const spy = await openSpy()
    const lone = await createPostgresSignal(db.url)
    db.closeLater(lone)
    const calls: Announced[] = []
    lone.subscribe((announced) => calls.push(announced))
    lone.notify(news)
    expect(calls).toEqual([news])
    // Its statements run in order: an announcement it had sent would have been sent by now.
    await lone.ping()
    expect(await spy.heardBefore()).toEqual(['hello'])
    await lone.close()
  })

  it('announces to a process that starts listening later, told by its hello', async () => {
    // Its next count is far off: only the newcomer's hello can tell it someone listens.
    const first = await createPostgresSignal(db.url, { checkEveryMs: 60_000 })
    const second = await createPostgresSignal(db.url)
    try {
      // The hello reaches the first a moment after the second has started.
      await vi.waitFor(
        async () => {
          const woken = within(nextWake(second), 200)
          first.notify(news)
          await woken
        },
        { timeout: 2_000, interval: 20 },
      )
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  it('is counted under its own name whatever application name the database URL sets', async () => {
    const named = new URL(db.url)
    named.searchParams.set('application_name', 'renamed-by-url')
    const first = await createPostgresSignal(named.toString())
    // Its next count is far off, and the first's hello came before it listened: only the count
    // it made on starting can tell it someone listens.
    const second = await createPostgresSignal(db.url, { checkEveryMs: 60_000 })
    try {
      const woken = within(nextWake(first), 2_000)
      second.notify(news)
      await woken
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  it('announces every commit when the server refuses it the count of listeners', async () => {
    const role = `tg_nostat_${Date.now()}`
    await queryOnce(`create role ${role} login`)
    await queryOnce('revoke select on pg_catalog.pg_stat_activity from public', [], db.url)
    const asRole = new URL(db.url)
    asRole.username = role
    try {
      const spy = await openSpy()
      const signal = await createPostgresSignal(asRole.toString())
      try {
        signal.notify(news)
        await signal.ping()
        expect(await spy.heardBefore()).toEqual(['hello', '[[3,1,1,"step_completed"]]'])
      } finally {
        await signal.close()
      }
    } finally {
      await queryOnce('grant select on pg_catalog.pg_stat_activity to public', [], db.url)
      await queryOnce(`drop role ${role}`)
    }
  })

  it('stops announcing once the other process has gone', async () => {
    const first = await createPostgresSignal(db.url, { checkEveryMs: 50 })
    db.closeLater(first)
    const second = await createPostgresSignal(db.url)
    await vi.waitFor(
      async () => {
        const woken = within(nextWake(second), 200)
        first.notify(news)
        await woken
      },
      { timeout: 2_000, interval: 20 },
    )
    await second.close()
    const spy = await openSpy()
    // Its next count finds no one.
    await vi.waitFor(
      async () => {
        first.notify(news)
        await first.ping()
        expect(await spy.heardBefore()).toEqual([])
      },
      { timeout: 5_000, interval: 100 },
    )
  })
})
