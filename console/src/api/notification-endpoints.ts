import type { ApiClient } from './client.js'

/** A project's outgoing webhook as the API shows it: the secret is never returned, only `has_secret`. */
export interface NotificationTarget {
  readonly id: number
  readonly project_id: number
  readonly url: string
  readonly events: string[]
  readonly format: 'json' | 'slack'
  readonly enabled: boolean
  readonly has_secret: boolean
  readonly created_at: string
}

export interface NotificationDelivery {
  readonly id: number
  readonly target_id: number | null
  readonly type: string
  readonly status: string
  readonly attempts: number
  readonly last_status_code: number | null
  readonly last_error: string | null
  readonly created_at: string
  readonly delivered_at: string | null
}

export interface TargetBody {
  readonly url?: string
  /** Write-only; omitted keeps the stored one, null removes it. */
  readonly secret?: string | null
  readonly events?: string[]
  readonly format?: 'json' | 'slack'
  readonly enabled?: boolean
}

export const NOTIFICATION_EVENTS = [
  'needs_qa',
  'blocked',
  'failed',
  'completed',
  'waiting_quota',
  'pr_opened',
] as const

/** The notification calls of one project, each carrying that project's token. */
export const notificationEndpoints = (api: ApiClient, projectId: number) => {
  const base = `/projects/${projectId}`
  return {
    targets: () => api.request<NotificationTarget[]>('GET', `${base}/notification-targets`, { projectId }),
    createTarget: (body: TargetBody) =>
      api.request<NotificationTarget>('POST', `${base}/notification-targets`, { projectId, body }),
    updateTarget: (id: number, body: TargetBody) =>
      api.request<NotificationTarget>('PATCH', `${base}/notification-targets/${id}`, { projectId, body }),
    deleteTarget: (id: number) =>
      api.request<null>('DELETE', `${base}/notification-targets/${id}`, { projectId, as: 'text' }),
    deliveries: () => api.request<NotificationDelivery[]>('GET', `${base}/notifications`, { projectId }),
    testSend: (targetId?: number) =>
      api.request<NotificationDelivery[]>('POST', `${base}/notifications/test`, {
        projectId,
        body: targetId === undefined ? {} : { target_id: targetId },
      }),
  }
}
