import type { JsonObject } from '../../domain/json.js'
import type { NotificationDelivery, NotificationFormat } from '../../domain/notification.js'
import type { JobHandler } from '../queue-runtime/job-handler.js'
import { PermanentJobError } from '../queue-runtime/job-handler.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import { bodyOf, headersOf } from './envelope.js'
import type { NotificationSender } from './notification.port.js'

/** The global default receiver (`TASKSGODZILLA_NOTIFY_URL`), with its secret for signing. */
export interface DefaultReceiver {
  readonly url: string
  readonly secret: string | undefined
  readonly format: NotificationFormat
}

export interface NotificationJobDeps {
  readonly uow: UnitOfWork
  readonly sender: NotificationSender
  readonly defaultReceiver: DefaultReceiver | undefined
}

interface Receiver {
  readonly url: string
  readonly secret: string | null | undefined
  readonly format: NotificationFormat
}

/**
 * deliver_notification_job: POSTs one delivery. A failed attempt is recorded on the delivery and
 * thrown, so the queue retries it with its usual backoff; the last failed attempt marks the
 * delivery failed and appends `notification_failed` (on the run it was about). Nothing here
 * touches a run's status: a receiver that is down never blocks or fails a run.
 */
export const createDeliverNotificationHandler =
  (deps: NotificationJobDeps): JobHandler<'deliver_notification_job'> =>
  async (payload, context): Promise<JsonObject> => {
    const delivery = await deps.uow.run((tx) => tx.notifications.findDelivery(payload.delivery_id))
    if (!delivery || delivery.status !== 'pending')
      return { outcome: 'skipped', status: delivery?.status ?? 'unknown delivery' }
    const receiver = await deps.uow.run((tx) => receiverOf(tx, deps, delivery))
    if (!receiver) {
      await record(deps, delivery, {
        status: 'dropped',
        attempts: context.attempt,
        statusCode: null,
        error: 'receiver removed or disabled',
      })
      return { outcome: 'dropped' }
    }
    const body = bodyOf(delivery, receiver.format)
    const sent = await deps.sender.send(
      receiver.url,
      body,
      headersOf(delivery, body, receiver.secret),
      context.signal,
    )
    const statusCode = sent.statusCode ?? null
    if (sent.error === undefined) {
      await record(deps, delivery, {
        status: 'delivered',
        attempts: context.attempt,
        statusCode,
        error: null,
      })
      return { outcome: 'delivered', status_code: statusCode ?? 0 }
    }
    if (context.attempt < context.maxAttempts) {
      await record(deps, delivery, {
        status: 'pending',
        attempts: context.attempt,
        statusCode,
        error: sent.error,
      })
      throw new Error(`Notification ${delivery.id} not delivered: ${sent.error}`)
    }
    await giveUp(deps, delivery, context.attempt, statusCode, sent.error)
    throw new PermanentJobError(
      `Notification ${delivery.id} gave up after ${context.attempt} attempts: ${sent.error}`,
      'api',
    )
  }

const receiverOf = async (
  tx: Repositories,
  deps: NotificationJobDeps,
  delivery: NotificationDelivery,
): Promise<Receiver | undefined> => {
  if (delivery.targetId === null) return deps.defaultReceiver
  const target = await tx.notifications.findTarget(delivery.projectId, delivery.targetId)
  if (!target || (!target.enabled && delivery.type !== 'test')) return undefined
  const secret = await tx.notifications.findTargetSecret(target.id)
  return { url: target.url, secret, format: target.format }
}

interface AttemptRecord {
  readonly status: 'pending' | 'delivered' | 'dropped'
  readonly attempts: number
  readonly statusCode: number | null
  readonly error: string | null
}

const record = (deps: NotificationJobDeps, delivery: NotificationDelivery, attempt: AttemptRecord) =>
  deps.uow.run((tx) => tx.notifications.recordAttempt(delivery.id, attempt))

const giveUp = (
  deps: NotificationJobDeps,
  delivery: NotificationDelivery,
  attempts: number,
  statusCode: number | null,
  error: string,
) =>
  deps.uow.run(async (tx) => {
    const changed = await tx.notifications.recordAttempt(delivery.id, {
      status: 'failed',
      attempts,
      statusCode,
      error,
    })
    if (!changed) return
    const runId = delivery.payload.protocol_run_id
    const stepId = delivery.payload.step_run_id
    await tx.events.append({
      projectId: delivery.projectId,
      protocolRunId: typeof runId === 'number' ? runId : null,
      stepRunId: typeof stepId === 'number' ? stepId : null,
      eventType: 'notification_failed',
      message: `Notification ${delivery.type} (delivery ${delivery.id}) gave up after ${attempts} attempts: ${error}`,
      metadata: {
        delivery_id: delivery.id,
        notification_type: delivery.type,
        target_id: delivery.targetId,
        attempts,
        status_code: statusCode,
        error,
      },
    })
  })
