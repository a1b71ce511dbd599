import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createTestDatabase, queryOnce, unavailable, type TestDatabase } from '../support/databases.js'

/** Found by the fault campaign (npm run chaos): a Postgres restart killed every busy worker process. */
describe.skipIf(unavailable('postgres'))('Postgres pool when a connection in use dies', () => {
  let database: TestDatabase | undefined
  let handle: DatabaseHandle | undefined

  afterEach(async () => {
    await handle?.close()
    await database?.drop()
  })

  it('fails the transaction using it, keeps the process alive and answers the next query', async () => {
    database = await createTestDatabase('postgres')
    handle = openDatabase(database.target)
    const uncaught: unknown[] = []
    const record = (error: unknown) => uncaught.push(error)
    process.on('uncaughtException', record)
    try {
      const transaction = handle.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)
        // Checked out between two statements, as a unit of work is, when the server ends it.
        await queryOnce('select pg_terminate_backend($1)', [rows[0]!.pid])
        await new Promise((resolve) => setTimeout(resolve, 300))
        await sql`select 1`.execute(tx)
      })
      await expect(transaction).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(uncaught).toEqual([])
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db)
      expect(rows).toEqual([{ one: 1 }])
    } finally {
      process.off('uncaughtException', record)
    }
  })
})
