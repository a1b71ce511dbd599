import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * Outgoing notifications: per-project receivers (`notification_targets`, secret write-only) and
 * one row per notification and receiver (`notification_deliveries`), written in the transaction
 * of the change that caused it, so the delivery log and the outbox job never disagree.
 */
export const notifications = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('notification_targets')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('events', t.json)
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('notification_targets_project_idx')
        .ifNotExists()
        .on('notification_targets')
        .column('project_id')
        .execute()
      await db.schema
        .createTable('notification_deliveries')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('target_id', 'integer')
        .addColumn('notification_type', 'text', (c) => c.notNull())
        .addColumn('payload', t.json, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('delivered_at', t.timestamp)
        .execute()
      await db.schema
        .createIndex('notification_deliveries_project_idx')
        .ifNotExists()
        .on('notification_deliveries')
        .columns(['project_id', 'id'])
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('notification_deliveries').ifExists().execute()
      await db.schema.dropTable('notification_targets').ifExists().execute()
    },
  }
}
