import type {
  DeliveryAttempt,
  NewNotificationDelivery,
  NewNotificationTarget,
  NotificationDelivery,
  NotificationTarget,
  NotificationTargetPatch,
} from '../../domain/notification.js'

/** Outgoing webhooks of projects and the log of what was sent to them. */
export interface NotificationRepository {
  /** Inserts a target; the caller has validated its URL. */
  createTarget(target: NewNotificationTarget): Promise<NotificationTarget>
  /** A target of the project, or undefined (unknown, or another project's). */
  findTarget(projectId: number, targetId: number): Promise<NotificationTarget | undefined>
  /** The project's targets, oldest first. */
  listTargets(projectId: number): Promise<NotificationTarget[]>
  /** Applies the patch; undefined when the target is not the project's. */
  updateTarget(
    projectId: number,
    targetId: number,
    patch: NotificationTargetPatch,
  ): Promise<NotificationTarget | undefined>
  /** False when the target was not the project's. Its deliveries stay in the log. */
  deleteTarget(projectId: number, targetId: number): Promise<boolean>
  /** The signing secret of a target, for the delivery job only; never hand it to a presenter. */
  findTargetSecret(targetId: number): Promise<string | null | undefined>
  /** Records a delivery as `pending`. */
  addDelivery(delivery: NewNotificationDelivery): Promise<NotificationDelivery>
  findDelivery(id: number): Promise<NotificationDelivery | undefined>
  /** The project's deliveries, newest first. */
  listDeliveries(projectId: number, limit: number, beforeId?: number): Promise<NotificationDelivery[]>
  /** Writes an attempt's outcome; only a `pending` delivery changes (false otherwise). */
  recordAttempt(id: number, attempt: DeliveryAttempt): Promise<boolean>
}

/** The outcome of one POST to a receiver. */
export interface SendResult {
  /** Undefined when no response came (refused, timed out, DNS failure). */
  readonly statusCode?: number
  /** Why it failed, fit for the log: never carries the URL's secret parts or the signing secret. */
  readonly error?: string
}

/** Posts a signed body to a receiver; never throws for network errors. */
export interface NotificationSender {
  send(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<SendResult>
}

/** Which receiver URLs are allowed (scheme, credentials, private or loopback hosts). */
export interface NotifyUrlPolicy {
  /** Why the URL is refused as written (no DNS lookup), or undefined when it may be stored. */
  refuse(url: string): string | undefined
}
