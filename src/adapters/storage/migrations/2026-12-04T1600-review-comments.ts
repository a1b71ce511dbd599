import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * PR/MR review comments waiting for their debounce window to close (`review_comments`), and one
 * row per run holding the open window's job and the rounds so far (`review_windows`). The window
 * row is what a new comment and the closing job both write first, so they serialize on it.
 */
export const reviewComments = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('review_comments')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('protocol_run_id', 'integer', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('comment_key', 'text', (c) => c.notNull())
        .addColumn('author', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('path', 'text')
        .addColumn('line', 'integer')
        .addColumn('url', 'text')
        .addColumn('review_state', 'text')
        .addColumn('received_at', t.timestamp, (c) => c.notNull())
        .addColumn('step_run_id', 'integer')
        .addColumn('consumed_at', t.timestamp)
        .execute()
      // A unique index rather than a constraint: the same named index on both dialects.
      await db.schema
        .createIndex('review_comments_key_unique')
        .ifNotExists()
        .unique()
        .on('review_comments')
        .columns(['protocol_run_id', 'provider', 'comment_key'])
        .execute()
      await db.schema
        .createIndex('review_comments_pending_idx')
        .ifNotExists()
        .on('review_comments')
        .columns(['protocol_run_id', 'consumed_at'])
        .execute()
      await db.schema
        .createTable('review_windows')
        .ifNotExists()
        .addColumn('protocol_run_id', 'integer', (c) => c.primaryKey())
        .addColumn('job_id', 'text')
        .addColumn('windows', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rounds', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('review_windows').ifExists().execute()
      await db.schema.dropIndex('review_comments_pending_idx').ifExists().execute()
      await db.schema.dropIndex('review_comments_key_unique').ifExists().execute()
      await db.schema.dropTable('review_comments').ifExists().execute()
    },
  }
}
