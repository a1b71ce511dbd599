import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * Webhook replay safety (one row per provider delivery id) and the execution order of steps
 * (`head_seq` grows each time a step records the commit it produced), so a CI result without a
 * SHA goes to the step executed last, never to whichever step a timestamp tie picks.
 */
export const webhooks = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('webhook_deliveries')
        .ifNotExists()
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('received_at', t.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pkey', ['provider', 'delivery_id'])
        .execute()
      await db.schema.alterTable('step_runs').addColumn('head_seq', 'integer').execute()
      await db.schema
        .createIndex('step_runs_head_seq_idx')
        .ifNotExists()
        .on('step_runs')
        .columns(['protocol_run_id', 'head_seq'])
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropIndex('step_runs_head_seq_idx').ifExists().execute()
      await db.schema.alterTable('step_runs').dropColumn('head_seq').execute()
      await db.schema.dropTable('webhook_deliveries').ifExists().execute()
    },
  }
}
