import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * `run_leases`: at most one agent writer per run worktree (W-39). One row per run names the step
 * (and its execute job) that holds the worktree; the row is taken in the same transaction as the
 * step's move to `running`. A holder whose step is no longer running has released it.
 */
export const runLeases = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('run_leases')
        .ifNotExists()
        .addColumn('protocol_run_id', 'integer', (c) =>
          c.primaryKey().references('protocol_runs.id').onDelete('cascade'),
        )
        .addColumn('step_run_id', 'integer', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('acquired_at', t.timestamp, (c) => c.notNull())
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('run_leases').ifExists().execute()
    },
  }
}
