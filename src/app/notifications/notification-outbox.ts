import type { NotificationType } from '../../domain/notification.js'
import { NO_ORIGIN } from '../context.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import type { BeforeCommit, Repositories } from '../ports.js'
import { payloadOf } from './envelope.js'
import { deriveNotices, type Notice } from './notices.js'

export interface NotificationOutboxOptions {
  /** True when a global default receiver is configured (it gets every notice of every project). */
  readonly hasDefaultReceiver: boolean
  /** Attempts of each delivery job before it gives up with `notification_failed`. */
  readonly maxAttempts: number
  /** Public root of this server, for `console_url`; undefined leaves it null. */
  readonly consoleBaseUrl: string | undefined
}

/**
 * The BeforeCommit hook that turns a transaction's notable changes into deliveries: one row and
 * one `deliver_notification_job` per receiver, written inside the transaction of the change, so a
 * crash either loses both or keeps both (the outbox relays the job after commit).
 */
export const makeNotificationOutbox =
  (options: NotificationOutboxOptions): BeforeCommit =>
  async (repos, changes) => {
    for (const notice of deriveNotices(changes)) await queueNotice(repos, await named(repos, notice), options)
  }

/**
 * Records a notice for every enabled receiver that wants its type (`onlyTargetId`: just that
 * project receiver, for a test-send) and enqueues their delivery jobs. Returns the delivery ids.
 */
export const queueNotice = async (
  repos: Pick<Repositories, 'notifications' | 'jobs'>,
  notice: Notice,
  options: NotificationOutboxOptions,
  onlyTargetId?: number,
): Promise<number[]> => {
  const targets = (await repos.notifications.listTargets(notice.projectId)).filter(
    (target) =>
      target.enabled &&
      (onlyTargetId === undefined ? wants(target.events, notice.type) : target.id === onlyTargetId),
  )
  const receivers: Array<number | null> = targets.map((target) => target.id)
  if (options.hasDefaultReceiver && onlyTargetId === undefined) receivers.push(null)
  const payload = payloadOf(notice, options.consoleBaseUrl)
  const ids: number[] = []
  for (const targetId of receivers) {
    const delivery = await repos.notifications.addDelivery({
      projectId: notice.projectId,
      targetId,
      type: notice.type,
      payload,
    })
    await enqueueJob(
      repos.jobs,
      'deliver_notification_job',
      { delivery_id: delivery.id },
      // Scoped to the project only: a run's cancellation or end must not cancel its notifications.
      {
        scope: { projectId: notice.projectId },
        origin: NO_ORIGIN,
        policy: { maxAttempts: options.maxAttempts },
      },
    )
    ids.push(delivery.id)
  }
  return ids
}

const wants = (events: readonly NotificationType[], type: NotificationType): boolean =>
  events.length === 0 || events.includes(type)

/** A step's notice names its run, read in the same transaction. */
const named = async (repos: Pick<Repositories, 'runs'>, notice: Notice): Promise<Notice> => {
  if (notice.protocolName !== null || notice.protocolRunId === null) return notice
  const run = await repos.runs.findById(notice.protocolRunId)
  return run ? { ...notice, protocolName: run.protocolName, status: notice.status ?? run.status } : notice
}
