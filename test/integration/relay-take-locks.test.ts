import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createJobLedger } from '../../src/adapters/storage/job-ledger.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedProjectJob } from '../support/fixtures.js'

// Every process that enqueues runs a relay, and they take rows concurrently. A take that waited
// for the rows another relay was marking deadlocked under bursts: two relays whose snapshots
// picked overlapping rows locked them in different orders, Postgres failed one of them after
// deadlock_timeout (1 s), and every job behind them waited that long (60 deadlocks in eight
// bench:queue runs). A take that never waits on a row lock cannot be part of such a cycle.

/** What a take answered, or 'still waiting' after `ms`. */
const within = async <T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'still waiting'>(
    (resolve) => (timer = setTimeout(() => resolve('still waiting'), ms)),
  )
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

describe.skipIf(unavailable('postgres'))('taking unrelayed jobs on Postgres', () => {
  let database: TestDatabase
  let handle: DatabaseHandle
  let ids: string[]

  beforeEach(async () => {
    database = await createTestDatabase('postgres')
    handle = openDatabase(database.target)
    await migrateToLatest(handle)
    const repos = createRepositories(handle.db)
    const project = await seedProject(repos)
    ids = []
    for (let i = 0; i < 6; i += 1) ids.push((await seedProjectJob(repos, project.id, `job-${i}`)).id)
  })

  afterEach(async () => {
    await handle.close()
    await database.drop()
  })

  /** Runs `during` while another transaction holds the row locks of `held` (as a relay marking them does). */
  const whileLocked = async <T>(held: readonly string[], during: () => Promise<T>): Promise<T> => {
    let release = (): void => undefined
    const released = new Promise<void>((resolve) => (release = resolve))
    let locked = (): void => undefined
    const lockTaken = new Promise<void>((resolve) => (locked = resolve))
    const holder = handle.db.transaction().execute(async (trx) => {
      await sql`update jobs set relayed_at = ${new Date().toISOString()} where id in (${sql.join(held)})`.execute(
        trx,
      )
      locked()
      await released
      throw new Error('rolled back: the holder gave its rows up')
    })
    await lockTaken
    try {
      return await during()
    } finally {
      release()
      await holder.catch(() => undefined)
    }
  }

  it('passes by the rows another transaction is marking instead of waiting for them', async () => {
    const ledger = createJobLedger(handle)
    const taken = await whileLocked(ids.slice(1, 3), () => within(ledger.takeUnrelayed(10), 5_000))

    expect(taken).not.toBe('still waiting')
    if (taken === 'still waiting') return
    expect(taken.map((job) => job.id)).toEqual([ids[0], ...ids.slice(3)])
    // The holder rolled back: the rows it held are still unrelayed, and the next take has them.
    expect((await ledger.takeUnrelayed(10)).map((job) => job.id)).toEqual(ids.slice(1, 3))
  })

  it('takes no more than the limit when the plan rescans the picked rows for each job', async () => {
    if (database.target.dialect !== 'postgres') throw new Error('a Postgres database was asked for')
    // One connection, so the planner settings apply to the take.
    const single = openDatabase({ ...database.target, poolSize: 1 })
    try {
      // Without sorts or hashing of the picked ids, the planner puts the jobs table outside and
      // the picking inside a nested loop, rescanned for each row (what took every row past the limit).
      const settings = ['enable_hashjoin', 'enable_mergejoin', 'enable_material', 'enable_seqscan']
      for (const setting of [...settings, 'enable_sort', 'enable_hashagg', 'enable_incremental_sort'])
        await sql`${sql.raw(`set ${setting} = off`)}`.execute(single.db)
      const taken = await createJobLedger(single).takeUnrelayed(2)
      expect(taken.map((job) => job.id)).toEqual(ids.slice(0, 2))
      const { rows } = await sql<{
        n: string
      }>`select count(*) as n from jobs where relayed_at is not null`.execute(single.db)
      expect(Number(rows[0]?.n)).toBe(2)
    } finally {
      await single.close()
    }
  })
})
