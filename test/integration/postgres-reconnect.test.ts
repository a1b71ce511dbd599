import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createTestDatabase, queryOnce, unavailable, type TestDatabase } from '../support/databases.js'

describe.skipIf(unavailable('postgres'))('Postgres pool when the server ends its connections', () => {
  let database: TestDatabase | undefined
  let handle: DatabaseHandle | undefined

  afterEach(async () => {
    await handle?.close()
    await database?.drop()
  })

  it('survives a terminated idle connection and answers the next query on a new one', async () => {
    database = await createTestDatabase('postgres')
    handle = openDatabase(database.target)
    const pidOf = async () =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle!.db)).rows[0]!.pid
    const first = await pidOf()

    await queryOnce('select pg_terminate_backend($1)', [first])
    await new Promise((resolve) => setTimeout(resolve, 200))

    const second = await pidOf()
    expect(second).not.toBe(first)
  })
})
