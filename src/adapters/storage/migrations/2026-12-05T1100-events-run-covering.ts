import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import type { AnyDb } from './column-types.js'

/** What a page of a run's events shows (event.table.ts, EVENT_LISTING_COLUMNS), after the key. */
const SHOWN = ['project_id', 'step_run_id', 'event_type', 'message', 'metadata', 'created_at']

/**
 * SQLite: `events_run_idx` carries every column a page of a run's events shows, so the page is
 * one ordered range of the index instead of a table row looked up per event. A run's events are
 * spread over the table among every other run's, so each lookup touched a page of its own, read
 * again after any other connection's commit; the range holds a page of 100 events in a few index
 * pages (docs/performance.md, 2026-12-05 session 8). The index keeps its name and its key
 * `(protocol_run_id, id)`, and grows by the size of the rows it now carries. Postgres keeps its
 * `(protocol_run_id, txid, id)` index: its pages come from shared buffers, and an index-only scan
 * would still visit the heap for the newest events, whose pages are not yet all-visible.
 */
export const eventsRunCovering = (dialect: Dialect): Migration => ({
  async up(db: AnyDb) {
    if (dialect !== 'sqlite') return
    await db.schema.dropIndex('events_run_idx').ifExists().execute()
    await db.schema
      .createIndex('events_run_idx')
      .on('events')
      .columns(['protocol_run_id', 'id', ...SHOWN])
      .execute()
  },
  async down(db: AnyDb) {
    if (dialect !== 'sqlite') return
    await db.schema.dropIndex('events_run_idx').ifExists().execute()
    await db.schema.createIndex('events_run_idx').on('events').columns(['protocol_run_id', 'id']).execute()
  },
})
