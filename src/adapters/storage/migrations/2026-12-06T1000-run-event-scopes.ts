import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import type { AnyDb } from './column-types.js'
import { createScopeTriggers, dropScopeTriggers, type ScopeBumps } from './scope-triggers.js'

/**
 * A run's events are a read scope of their own (`events`), apart from its row and steps (`run`):
 * agents append events all the time while a run's detail and steps change a few times per step,
 * so every event no longer invalidates the detail and steps a console keeps polling
 * (docs/decisions.md, "Read scopes"). SQLite: an event write now moves the run's `events` counter
 * instead of its `run` counter. Postgres stamps rows, and which stamps a scope reads is decided
 * where it is read (scope-versions.ts): nothing to migrate. As with every migration, the processes
 * sharing a database are upgraded together: an older process would keep its events pages under the
 * `run` counter, which events no longer move.
 */
export const runEventScopes = (dialect: Dialect): Migration => ({
  async up(db: AnyDb) {
    if (dialect === 'sqlite') await replaceEventTriggers(db, [(row) => ['events', `${row}.protocol_run_id`]])
  },
  async down(db: AnyDb) {
    if (dialect === 'sqlite') await replaceEventTriggers(db, [(row) => ['run', `${row}.protocol_run_id`]])
  },
})

/**
 * In one transaction: Kysely runs SQLite migrations outside one, and an event another process
 * wrote between the drop and the create would move no counter, leaving a kept page stale.
 */
const replaceEventTriggers = (db: AnyDb, bumps: ScopeBumps): Promise<void> =>
  db.transaction().execute(async (trx) => {
    await dropScopeTriggers(trx, 'events')
    await createScopeTriggers(trx, 'events', bumps)
  })
