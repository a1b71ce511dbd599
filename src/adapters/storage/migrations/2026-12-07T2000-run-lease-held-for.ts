import type { Migration } from 'kysely'
import type { AnyDb } from './column-types.js'

/**
 * `run_leases.held_for`: null when the step named by the lease took the worktree for its own
 * work; otherwise the run-level work (a base sync) that took it in that step's name, which holds
 * it for as long as its job is running, whatever the step's status.
 */
export const runLeaseHeldFor: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('run_leases').addColumn('held_for', 'text').execute()
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('run_leases').dropColumn('held_for').execute()
  },
}
