import { sql, type Migration } from 'kysely'
import type { Dialect } from '../database.js'
import type { AnyDb } from './column-types.js'

/** Postgres lookups of events, rebuilt to follow the position `(txid, id)` instead of `id` alone. */
const LOOKUPS: ReadonlyArray<readonly [string, string]> = [
  ['events_run_idx', 'protocol_run_id'],
  ['events_project_idx', 'project_id'],
  ['events_type_idx', 'event_type'],
]

/** The unfiltered listing by position; SQLite lists by id, which the primary key serves. */
export const POSTGRES_ONLY_INDEXES = ['events_position_idx']

/**
 * `events.txid`: on Postgres, the id of the transaction that wrote the event, so that readers can
 * order events by the commit-safe position `(txid, id)` and hold back what a still-running older
 * transaction may precede (docs/decisions.md, "Event positions"). Rows written before this
 * migration get 0 and keep their id order. SQLite has a single writer, so ids are already in
 * commit order there: the column stays 0 and its indexes stay as they were.
 */
export const eventTxid = (dialect: Dialect): Migration => ({
  async up(db: AnyDb) {
    await db.schema
      .alterTable('events')
      .addColumn('txid', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute()
    if (dialect !== 'postgres') return
    await db.schema
      .createIndex('events_position_idx')
      .ifNotExists()
      .on('events')
      .columns(['txid', 'id'])
      .execute()
    for (const [name, column] of LOOKUPS) {
      await db.schema.dropIndex(name).ifExists().execute()
      await db.schema.createIndex(name).on('events').columns([column, 'txid', 'id']).execute()
    }
    await sql`analyze events`.execute(db)
  },
  async down(db: AnyDb) {
    if (dialect === 'postgres') {
      await db.schema.dropIndex('events_position_idx').ifExists().execute()
      for (const [name, column] of LOOKUPS) {
        await db.schema.dropIndex(name).ifExists().execute()
        await db.schema.createIndex(name).on('events').columns([column, 'id']).execute()
      }
    }
    await db.schema.alterTable('events').dropColumn('txid').execute()
  },
})
