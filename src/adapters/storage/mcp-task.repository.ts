import type { Kysely, Selectable } from 'kysely'
import type { McpTaskRepository, McpTaskStatus, StoredMcpTask } from '../../app/mcp/mcp-task.port.js'
import { decodeJsonObject, encodeJson, toIso } from './columns.js'
import type { Database, McpTasksTable } from './schema.js'

const TERMINAL: readonly McpTaskStatus[] = ['completed', 'failed', 'cancelled']

export const createMcpTaskRepository = (db: Kysely<Database>): McpTaskRepository => {
  const live = (ownerHash: string, now: Date) =>
    db
      .selectFrom('mcp_tasks')
      .selectAll()
      .where('owner_hash', '=', ownerHash)
      .where('expires_at', '>', now.toISOString())
  return {
    async create(task, now) {
      const at = now.toISOString()
      const row = await db
        .insertInto('mcp_tasks')
        .values({
          task_id: task.taskId,
          owner_hash: task.ownerHash,
          status: 'working',
          status_message: null,
          ttl_ms: task.ttlMs,
          poll_interval_ms: task.pollIntervalMs,
          result: null,
          created_at: at,
          updated_at: at,
          expires_at: new Date(now.getTime() + task.ttlMs).toISOString(),
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toTask(row)
    },
    async find(taskId, ownerHash, now) {
      const row = await live(ownerHash, now).where('task_id', '=', taskId).executeTakeFirst()
      return row ? toTask(row) : undefined
    },
    async settle(taskId, ownerHash, change, now) {
      const current = await live(ownerHash, now).where('task_id', '=', taskId).executeTakeFirst()
      if (!current) return false
      const ttl = current.ttl_ms ?? 0
      const updated = await db
        .updateTable('mcp_tasks')
        .set({
          status: change.status,
          ...(change.result === undefined ? {} : { result: encodeJson(change.result) }),
          ...(change.message === undefined ? {} : { status_message: change.message.slice(0, 1000) }),
          updated_at: now.toISOString(),
          expires_at: new Date(now.getTime() + ttl).toISOString(),
        })
        .where('task_id', '=', taskId)
        .where('owner_hash', '=', ownerHash)
        .where('status', 'not in', [...TERMINAL])
        .executeTakeFirst()
      return updated.numUpdatedRows > 0n
    },
    async list(ownerHash, page, now) {
      let query = live(ownerHash, now)
      if (page.afterTaskId !== undefined) {
        const after = await live(ownerHash, now).where('task_id', '=', page.afterTaskId).executeTakeFirst()
        if (!after) return []
        const at = toIso(after.created_at)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '>', at),
            eb.and([eb('created_at', '=', at), eb('task_id', '>', page.afterTaskId ?? '')]),
          ]),
        )
      }
      const rows = await query.orderBy('created_at').orderBy('task_id').limit(page.limit).execute()
      return rows.map(toTask)
    },
    async deleteExpired(now) {
      const deleted = await db
        .deleteFrom('mcp_tasks')
        .where('expires_at', '<=', now.toISOString())
        .executeTakeFirst()
      return Number(deleted.numDeletedRows)
    },
  }
}

const toTask = (row: Selectable<McpTasksTable>): StoredMcpTask => ({
  taskId: row.task_id,
  status: row.status as McpTaskStatus,
  statusMessage: row.status_message,
  ttlMs: row.ttl_ms,
  pollIntervalMs: row.poll_interval_ms,
  result: decodeJsonObject(row.result),
  createdAt: toIso(row.created_at),
  updatedAt: toIso(row.updated_at),
})
