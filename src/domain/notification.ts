import type { JsonObject } from './json.js'

/**
 * What a notification may be about. `waiting_quota` is accepted before any run can reach that
 * status, so targets can subscribe to it today; `test` is a test-send from the API or console.
 */
export const NOTIFICATION_TYPES = [
  'needs_qa',
  'blocked',
  'failed',
  'completed',
  'waiting_quota',
  'pr_opened',
  'test',
] as const
export type NotificationType = (typeof NOTIFICATION_TYPES)[number]

/** `json`: the envelope only; `slack`: the envelope plus Slack-compatible `text` and `blocks`. */
export const NOTIFICATION_FORMATS = ['json', 'slack'] as const
export type NotificationFormat = (typeof NOTIFICATION_FORMATS)[number]

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dropped'] as const
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number]

/** Version of the envelope's shape; receivers should check it. */
export const ENVELOPE_VERSION = 1

export const isNotificationType = (value: string): value is NotificationType =>
  (NOTIFICATION_TYPES as readonly string[]).includes(value)

/** A project's outgoing webhook. The secret is never part of this type: see NotificationTargetSecret. */
export interface NotificationTarget {
  readonly id: number
  readonly projectId: number
  readonly url: string
  /** Types this target receives; empty means all. */
  readonly events: readonly NotificationType[]
  readonly format: NotificationFormat
  readonly enabled: boolean
  readonly hasSecret: boolean
  readonly createdAt: string
  readonly updatedAt: string
}

export interface NewNotificationTarget {
  readonly projectId: number
  readonly url: string
  readonly secret: string | null
  readonly events: readonly NotificationType[]
  readonly format: NotificationFormat
  readonly enabled: boolean
}

/** Absent keys stay as they are; `secret: null` removes the secret. */
export interface NotificationTargetPatch {
  readonly url?: string
  readonly secret?: string | null
  readonly events?: readonly NotificationType[]
  readonly format?: NotificationFormat
  readonly enabled?: boolean
}

/** The versioned body every receiver gets (plus `text`/`blocks` for the slack format). */
export interface NotificationEnvelope {
  readonly version: number
  readonly type: NotificationType
  readonly delivery_id: number
  readonly project_id: number
  readonly protocol_run_id: number | null
  readonly step_run_id: number | null
  readonly protocol_name: string | null
  readonly status: string | null
  readonly reason: string | null
  readonly message: string
  readonly console_url: string | null
  readonly occurred_at: string
}

/** One notification to one target (a project target, or the global default when targetId is null). */
export interface NotificationDelivery {
  readonly id: number
  readonly projectId: number
  readonly targetId: number | null
  readonly type: NotificationType
  /** The envelope without `delivery_id` (added when sent). */
  readonly payload: JsonObject
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly lastStatusCode: number | null
  readonly lastError: string | null
  readonly createdAt: string
  readonly updatedAt: string
  readonly deliveredAt: string | null
}

export interface NewNotificationDelivery {
  readonly projectId: number
  readonly targetId: number | null
  readonly type: NotificationType
  readonly payload: JsonObject
}

/** What one attempt recorded. */
export interface DeliveryAttempt {
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly statusCode: number | null
  readonly error: string | null
}
