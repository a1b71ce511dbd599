import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * `mcp_tasks`: MCP tasks of the streamable HTTP face, shared by every API instance. Each row is
 * bound to its caller by `owner_hash` (SHA-256 of the caller's credentials, never the token).
 */
export const mcpTasks = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('mcp_tasks')
        .ifNotExists()
        .addColumn('task_id', 'text', (c) => c.primaryKey())
        .addColumn('owner_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_message', 'text')
        .addColumn('ttl_ms', 'integer')
        .addColumn('poll_interval_ms', 'integer', (c) => c.notNull())
        .addColumn('result', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .addColumn('expires_at', t.timestamp, (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('mcp_tasks_owner_idx')
        .ifNotExists()
        .on('mcp_tasks')
        .columns(['owner_hash', 'created_at'])
        .execute()
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('mcp_tasks').ifExists().execute()
    },
  }
}
