import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * `engines`: an engine/model fallback chain (JSON, null when none) on projects and on steps
 * created through the API.
 */
export const engineChains = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema.alterTable('projects').addColumn('engines', t.json).execute()
      await db.schema.alterTable('step_runs').addColumn('engines', t.json).execute()
    },
    async down(db: AnyDb) {
      await db.schema.alterTable('step_runs').dropColumn('engines').execute()
      await db.schema.alterTable('projects').dropColumn('engines').execute()
    },
  }
}
