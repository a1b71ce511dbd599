import type { Migration } from 'kysely'
import type { AnyDb } from './column-types.js'

/** Step names identify steps within a run (spec lookup, planner sync), so they are unique per run. */
export const stepNameUnique: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createIndex('step_runs_run_name_unique')
      .ifNotExists()
      .unique()
      .on('step_runs')
      .columns(['protocol_run_id', 'step_name'])
      .execute()
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('step_runs_run_name_unique').ifExists().execute()
  },
}
