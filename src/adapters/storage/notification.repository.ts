import type { Kysely, Updateable } from 'kysely'
import type { NotificationRepository } from '../../app/notifications/notification.port.js'
import type { NotificationTargetPatch } from '../../domain/notification.js'
import { encodeJson, nowIso } from './columns.js'
import { toNotificationDelivery, toNotificationTarget } from './notification.table.js'
import type { Database, NotificationTargetsTable } from './schema.js'

export const createNotificationRepository = (db: Kysely<Database>): NotificationRepository => ({
  async createTarget(target) {
    const now = nowIso()
    const row = await db
      .insertInto('notification_targets')
      .values({
        project_id: target.projectId,
        url: target.url,
        secret: target.secret,
        events: encodeJson([...target.events]),
        format: target.format,
        enabled: target.enabled ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toNotificationTarget(row)
  },

  async findTarget(projectId, targetId) {
    const row = await db
      .selectFrom('notification_targets')
      .selectAll()
      .where('id', '=', targetId)
      .where('project_id', '=', projectId)
      .executeTakeFirst()
    return row ? toNotificationTarget(row) : undefined
  },

  async listTargets(projectId) {
    const rows = await db
      .selectFrom('notification_targets')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('id', 'asc')
      .execute()
    return rows.map(toNotificationTarget)
  },

  async updateTarget(projectId, targetId, patch) {
    const row = await db
      .updateTable('notification_targets')
      .set({ ...targetColumns(patch), updated_at: nowIso() })
      .where('id', '=', targetId)
      .where('project_id', '=', projectId)
      .returningAll()
      .executeTakeFirst()
    return row ? toNotificationTarget(row) : undefined
  },

  async deleteTarget(projectId, targetId) {
    const result = await db
      .deleteFrom('notification_targets')
      .where('id', '=', targetId)
      .where('project_id', '=', projectId)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  },

  async findTargetSecret(targetId) {
    const row = await db
      .selectFrom('notification_targets')
      .select('secret')
      .where('id', '=', targetId)
      .executeTakeFirst()
    return row ? row.secret : undefined
  },

  async addDelivery(delivery) {
    const now = nowIso()
    const row = await db
      .insertInto('notification_deliveries')
      .values({
        project_id: delivery.projectId,
        target_id: delivery.targetId,
        notification_type: delivery.type,
        payload: JSON.stringify(delivery.payload),
        status: 'pending',
        created_at: now,
        updated_at: now,
        delivered_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toNotificationDelivery(row)
  },

  async findDelivery(id) {
    const row = await db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? toNotificationDelivery(row) : undefined
  },

  async listDeliveries(projectId, limit, beforeId) {
    let query = db.selectFrom('notification_deliveries').selectAll().where('project_id', '=', projectId)
    if (beforeId !== undefined) query = query.where('id', '<', beforeId)
    const rows = await query.orderBy('id', 'desc').limit(limit).execute()
    return rows.map(toNotificationDelivery)
  },

  async recordAttempt(id, attempt) {
    const now = nowIso()
    const result = await db
      .updateTable('notification_deliveries')
      .set({
        status: attempt.status,
        attempts: attempt.attempts,
        last_status_code: attempt.statusCode,
        last_error: attempt.error,
        updated_at: now,
        ...(attempt.status === 'delivered' ? { delivered_at: now } : {}),
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  },
})

const targetColumns = (patch: NotificationTargetPatch): Updateable<NotificationTargetsTable> => {
  const columns: Updateable<NotificationTargetsTable> = {}
  if (patch.url !== undefined) columns.url = patch.url
  if (patch.secret !== undefined) columns.secret = patch.secret
  if (patch.events !== undefined) columns.events = encodeJson([...patch.events])
  if (patch.format !== undefined) columns.format = patch.format
  if (patch.enabled !== undefined) columns.enabled = patch.enabled ? 1 : 0
  return columns
}
