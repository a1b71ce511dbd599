import { createHmac, randomUUID } from 'node:crypto'
import type { JsonObject } from '../../domain/json.js'
import {
  ENVELOPE_VERSION,
  type NotificationDelivery,
  type NotificationFormat,
} from '../../domain/notification.js'
import type { Notice } from './notices.js'

/** Header carrying `sha256=<hex>` of the HMAC-SHA256 of the exact body with the target's secret. */
export const SIGNATURE_HEADER = 'x-tasksgodzilla-signature'
export const TIMESTAMP_HEADER = 'x-tasksgodzilla-timestamp'
export const DELIVERY_HEADER = 'x-tasksgodzilla-delivery'
export const EVENT_HEADER = 'x-tasksgodzilla-event'

/** The stored payload of a delivery: the envelope without `delivery_id`, which is the row's id. */
export const payloadOf = (notice: Notice, consoleBaseUrl: string | undefined): JsonObject => ({
  version: ENVELOPE_VERSION,
  type: notice.type,
  project_id: notice.projectId,
  protocol_run_id: notice.protocolRunId,
  step_run_id: notice.stepRunId,
  protocol_name: notice.protocolName,
  status: notice.status,
  reason: notice.reason,
  message: notice.message,
  console_url: consoleUrl(notice, consoleBaseUrl),
  occurred_at: notice.occurredAt,
  ...notice.extra,
})

const consoleUrl = (notice: Notice, base: string | undefined): string | null => {
  if (base === undefined) return null
  const root = `${base.replace(/\/+$/, '')}/console/#/projects/${notice.projectId}`
  if (notice.protocolRunId === null) return root
  const run = `${root}/runs/${notice.protocolRunId}`
  return notice.stepRunId === null ? run : `${run}/steps/${notice.stepRunId}`
}

/** The body sent for a delivery: the envelope, plus Slack `text` and `blocks` for the slack format. */
export const bodyOf = (delivery: NotificationDelivery, format: NotificationFormat): string => {
  const envelope: JsonObject = { ...delivery.payload, delivery_id: delivery.id }
  if (format !== 'slack') return JSON.stringify(envelope)
  const text = slackText(envelope)
  return JSON.stringify({
    ...envelope,
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  })
}

const slackText = (envelope: JsonObject): string => {
  const name = typeof envelope.protocol_name === 'string' ? envelope.protocol_name : null
  const subject =
    name ??
    (envelope.protocol_run_id === null
      ? `project ${String(envelope.project_id)}`
      : `run ${String(envelope.protocol_run_id)}`)
  const head = `*TasksGodzilla* ${String(envelope.type)}: ${subject}`
  const link = typeof envelope.console_url === 'string' ? ` <${envelope.console_url}|open>` : ''
  return `${head} — ${String(envelope.message)}${link}`
}

/** Headers of one attempt; the signature only when the receiver has a secret. */
export const headersOf = (
  delivery: NotificationDelivery,
  body: string,
  secret: string | null | undefined,
): Record<string, string> => {
  const headers: Record<string, string> = {
    [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)),
    [DELIVERY_HEADER]: `${delivery.id}`,
    [EVENT_HEADER]: delivery.type,
    'x-request-id': randomUUID(),
    'user-agent': 'TasksGodzilla-Notifier/1',
  }
  if (secret)
    headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
  return headers
}
