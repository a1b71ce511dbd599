import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * `engine_limits`: the global per-engine circuit breaker. An engine that reported a usage or rate
 * limit is not called again, by any worker, before `limited_until`.
 */
export const engineLimits = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('engine_limits')
        .ifNotExists()
        .addColumn('engine_id', 'text', (c) => c.primaryKey())
        .addColumn('limited_until', t.timestamp, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('engine_limits').ifExists().execute()
    },
  }
}
