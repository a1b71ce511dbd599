import type { NotificationJobDeps } from '../app/notifications/deliver-notification.job.js'
import {
  makeNotificationOutbox,
  type NotificationOutboxOptions,
} from '../app/notifications/notification-outbox.js'
import {
  makeNotificationUseCases,
  type NotificationUseCases,
} from '../app/notifications/notification-use-cases.js'
import type { BeforeCommit, Repositories, UnitOfWork } from '../app/ports.js'
import {
  createHttpNotificationSender,
  createNotifyUrlPolicy,
} from '../adapters/notifications/http-notification.sender.js'
import type { Config } from '../config.js'

/** The wiring of outgoing notifications (issue 20), built once per process by the composition root. */

const outboxOptions = (config: Config): NotificationOutboxOptions => ({
  hasDefaultReceiver: config.notifications.url !== undefined,
  maxAttempts: config.notifications.maxAttempts,
  consoleBaseUrl: config.notifications.publicUrl,
})

/** The hook every unit of work runs before commit, so notable changes write their deliveries with them. */
export const notificationOutbox = (config: Config): BeforeCommit =>
  makeNotificationOutbox(outboxOptions(config))

/** What the API's notification routes call. */
export const notificationUseCases = (
  config: Config,
  deps: { readonly uow: UnitOfWork; readonly repos: Repositories },
): NotificationUseCases =>
  makeNotificationUseCases({
    ...deps,
    urlPolicy: createNotifyUrlPolicy({ allowPrivate: config.notifications.allowPrivateHosts }),
    outbox: outboxOptions(config),
  })

/** The delivery job's sender and the global default receiver (the job adds its unit of work). */
export const notificationJobDeps = (config: Config): Omit<NotificationJobDeps, 'uow'> => {
  const { url, secret, format, timeoutMs, allowPrivateHosts } = config.notifications
  return {
    sender: createHttpNotificationSender({ allowPrivate: allowPrivateHosts, timeoutMs }),
    defaultReceiver: url === undefined ? undefined : { url, secret, format },
  }
}
