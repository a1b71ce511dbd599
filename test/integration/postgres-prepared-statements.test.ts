import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { Repositories } from '../../src/app/ports.js'
import { createTestDatabase, queryOnce, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedRun, seedStep } from '../support/fixtures.js'

describe.skipIf(unavailable('postgres'))('Postgres prepared statements', () => {
  let database: TestDatabase
  let handle: DatabaseHandle
  let repos: Repositories

  beforeEach(async () => {
    database = await createTestDatabase('postgres')
    const target = database.target
    if (target.dialect !== 'postgres') throw new Error('a Postgres database was asked for')
    // One connection, so the statements it prepared are the ones each query meets again.
    handle = openDatabase({ ...target, poolSize: 1 })
    await migrateToLatest(handle)
    repos = createRepositories(handle.db)
  })

  afterEach(async () => {
    await handle.close()
    await database.drop()
  })

  /** As another process's migration would: from a connection of its own. */
  const addColumnElsewhere = async (table: string, column: string): Promise<void> => {
    if (database.target.dialect !== 'postgres') throw new Error('postgres only')
    await queryOnce(`alter table ${table} add column ${column} integer`, [], database.target.url)
  }

  const preparedOnConnection = async (): Promise<number> =>
    (await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(handle.db))
      .rows[0]!.n

  /** A text is prepared the second time it runs. */
  const readTwice = async (stepId: number): Promise<void> => {
    for (let i = 0; i < 2; i += 1) expect((await repos.steps.findById(stepId))?.id).toBe(stepId)
  }

  const seedOneStep = async () => seedStep(repos, (await seedRun(repos, (await seedProject(repos)).id)).id)

  it('prepares a statement that runs again, once per connection', async () => {
    const step = await seedOneStep()
    const before = await preparedOnConnection()
    await repos.steps.findById(step.id)
    // Statements without parameters (this count, begin, commit) are never prepared.
    expect(await preparedOnConnection()).toBe(before)
    for (let i = 0; i < 3; i += 1) expect((await repos.steps.findById(step.id))?.id).toBe(step.id)
    expect((await preparedOnConnection()) - before).toBe(1)
  })

  it('answers a read prepared before another process added a column to its table', async () => {
    const step = await seedOneStep()
    await readTwice(step.id)
    await addColumnElsewhere('step_runs', 'added_later')
    expect((await repos.steps.findById(step.id))?.stepName).toBe(step.stepName)
    expect((await repos.steps.findById(step.id))?.stepName).toBe(step.stepName)
  })

  it('answers such a read after a committed and after a rolled-back unit of work on its connection', async () => {
    const step = await seedOneStep()
    const uow = createUnitOfWork(handle.db)
    await readTwice(step.id)
    await uow.run((tx) => tx.steps.findById(step.id))
    await addColumnElsewhere('step_runs', 'after_commit')
    expect((await repos.steps.findById(step.id))?.id).toBe(step.id)

    await readTwice(step.id)
    const undone = uow.run(async (tx) => {
      await tx.steps.findById(step.id)
      throw new Error('undo')
    })
    await expect(undone).rejects.toThrow('undo')
    await addColumnElsewhere('step_runs', 'after_rollback')
    expect((await repos.steps.findById(step.id))?.id).toBe(step.id)
  })

  it('answers a read whose prepared statement the server dropped', async () => {
    const step = await seedOneStep()
    await readTwice(step.id)
    await sql`deallocate all`.execute(handle.db)
    expect((await repos.steps.findById(step.id))?.id).toBe(step.id)
    expect((await repos.steps.findById(step.id))?.id).toBe(step.id)
  })

  it('fails a transaction that meets such a statement as a whole; the next one succeeds', async () => {
    const step = await seedOneStep()
    const uow = createUnitOfWork(handle.db)
    const rename = (summary: string) =>
      uow.run(async (tx) => {
        await tx.runs.update(step.protocolRunId, { description: summary })
        return tx.steps.update(step.id, { summary })
      })
    await rename('zeroth')
    await rename('first')
    await addColumnElsewhere('step_runs', 'added_later')
    await addColumnElsewhere('protocol_runs', 'added_later')

    await expect(rename('second')).rejects.toThrow(/result type/)
    expect((await repos.runs.findById(step.protocolRunId))?.description).toBe('first')
    expect((await rename('third'))?.summary).toBe('third')
    expect((await repos.runs.findById(step.protocolRunId))?.description).toBe('third')
  })

  it("sends a transaction's BEGIN with its first statement, and a rollback still undoes that statement", async () => {
    const step = await seedOneStep()
    const uow = createUnitOfWork(handle.db)
    const sent = vi.spyOn(pg.Client.prototype, 'query')
    try {
      await uow.run((tx) => tx.steps.update(step.id, { summary: 'kept' }))
      // One round trip for BEGIN + the update, one for COMMIT.
      expect(sent).toHaveBeenCalledTimes(2)
      const undone = uow.run(async (tx) => {
        await tx.steps.update(step.id, { summary: 'undone' })
        throw new Error('undo')
      })
      await expect(undone).rejects.toThrow('undo')
    } finally {
      sent.mockRestore()
    }
    expect((await repos.steps.findById(step.id))?.summary).toBe('kept')
    // A first statement that fails takes its transaction with it; the connection goes on.
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await sql`select 1 / ${0}::int as n`.execute(trx)
      }),
    ).rejects.toThrow(/division by zero/)
    expect((await uow.run((tx) => tx.steps.update(step.id, { summary: 'after' })))?.summary).toBe('after')
  })

  it('prepares nothing when prepared statements are turned off (a pooler that cannot keep them)', async () => {
    const target = database.target
    if (target.dialect !== 'postgres') throw new Error('a Postgres database was asked for')
    const plain = openDatabase({ ...target, poolSize: 1, preparedStatements: false })
    try {
      await createRepositories(plain.db).projects.list({ limit: 5 })
      const { rows } = await sql<{
        n: number
      }>`select count(*)::int as n from pg_prepared_statements`.execute(plain.db)
      expect(rows[0]!.n).toBe(0)
    } finally {
      await plain.close()
    }
  })

  it('keeps a bounded number of statements prepared however many distinct texts it runs', async () => {
    for (let i = 0; i < 300; i += 1)
      for (const _ of [1, 2]) await sql`select ${sql.lit(i)}::int + ${i} as n`.execute(handle.db)
    const prepared = await preparedOnConnection()
    expect(prepared).toBeGreaterThan(200)
    expect(prepared).toBeLessThanOrEqual(256)
    expect((await sql<{ n: number }>`select 299 + ${1}::int as n`.execute(handle.db)).rows[0]!.n).toBe(300)
  })
})
