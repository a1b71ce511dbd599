import type { Migration } from 'kysely'
import type { AnyDb } from './column-types.js'

/**
 * `run_leases.version`: moved by every take of the lease, so a take can compare-and-set on the
 * take it read rather than on the holder's step alone. A step taking its own lease again (a
 * retry, its QA) leaves the step as it was; a concurrent take that read the older row must lose.
 */
export const runLeaseVersion: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .alterTable('run_leases')
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute()
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('run_leases').dropColumn('version').execute()
  },
}
