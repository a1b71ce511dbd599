import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectArrays } from '../../src/adapters/storage/array-rows.js'
import { openDatabase } from '../../src/adapters/storage/database.js'
import { createTestDatabase, DIALECTS, unavailable, type TestDatabase } from '../support/databases.js'

// Listings read their rows as arrays and map them by position, so the position of every column
// must be the one the select list gives, whichever way the driver runs the statement.

const QUERY_TWICE = 2 // the Postgres wrapper prepares a text the second time it runs

describe.each(DIALECTS)('rows read as arrays (%s)', (dialect) => {
  let database: TestDatabase
  beforeAll(async () => {
    if (!unavailable(dialect)) database = await createTestDatabase(dialect)
  })
  afterAll(async () => database?.drop())

  const variants =
    dialect === 'postgres'
      ? ([
          ['with prepared statements', true],
          ['without prepared statements', false],
        ] as const)
      : ([['', true]] as const)

  for (const [label, preparedStatements] of variants)
    it.skipIf(unavailable(dialect))(`come in select-list order ${label}`, async () => {
      const target =
        database.target.dialect === 'postgres' ? { ...database.target, preparedStatements } : database.target
      const handle = openDatabase(target)
      try {
        for (let i = 0; i < QUERY_TWICE; i++) {
          const query = handle.db.selectNoFrom([
            sql<string>`'z'`.as('zeta'),
            sql<number>`${41 + i} + 1`.as('alpha'),
            sql`null`.as('m'),
          ])
          const rows = await selectArrays(handle.db, query)
          expect(rows.map((row) => [...row].map(String))).toEqual([['z', String(42 + i), 'null']])
        }
        // The same text unmarked still gives objects to every other caller.
        const plain = await handle.db.selectNoFrom(sql<string>`'z'`.as('zeta')).execute()
        expect(plain).toEqual([{ zeta: 'z' }])
      } finally {
        await handle.close()
      }
    })
})
