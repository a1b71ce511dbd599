import {
  isNotificationType,
  type DeliveryStatus,
  type NotificationDelivery,
  type NotificationFormat,
  type NotificationTarget,
  type NotificationType,
} from '../../domain/notification.js'
import { decodeJson, decodeJsonObject, toIso } from './columns.js'
import type { NotificationDeliveriesTable, NotificationTargetsTable } from './schema.js'
import type { Selectable } from 'kysely'

type TargetRow = Selectable<NotificationTargetsTable>
type DeliveryRow = Selectable<NotificationDeliveriesTable>

export const toNotificationTarget = (row: TargetRow): NotificationTarget => ({
  id: row.id,
  projectId: row.project_id,
  url: row.url,
  events: eventsOf(row.events),
  format: row.format as NotificationFormat,
  enabled: Number(row.enabled) === 1,
  hasSecret: row.secret !== null && row.secret !== '',
  createdAt: toIso(row.created_at),
  updatedAt: toIso(row.updated_at),
})

export const toNotificationDelivery = (row: DeliveryRow): NotificationDelivery => ({
  id: row.id,
  projectId: row.project_id,
  targetId: row.target_id,
  type: row.notification_type as NotificationType,
  payload: decodeJsonObject(row.payload) ?? {},
  status: row.status as DeliveryStatus,
  attempts: row.attempts,
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  createdAt: toIso(row.created_at),
  updatedAt: toIso(row.updated_at),
  deliveredAt: row.delivered_at === null ? null : toIso(row.delivered_at),
})

const eventsOf = (text: string | null): NotificationType[] => {
  const value = decodeJson(text)
  if (!Array.isArray(value)) return []
  return value.filter(
    (item): item is NotificationType => typeof item === 'string' && isNotificationType(item),
  )
}
