import { AppError } from '../../domain/app-error.js'
import type {
  NotificationDelivery,
  NotificationFormat,
  NotificationTarget,
  NotificationType,
} from '../../domain/notification.js'
import { authorizeProject } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import type { NotifyUrlPolicy } from './notification.port.js'
import { queueNotice, type NotificationOutboxOptions } from './notification-outbox.js'

export interface NotificationUseCaseDeps {
  readonly uow: UnitOfWork
  readonly repos: Repositories
  readonly urlPolicy: NotifyUrlPolicy
  readonly outbox: NotificationOutboxOptions
}

export interface TargetInput {
  readonly url: string
  /** Write-only: stored for signing, never returned. */
  readonly secret?: string | null
  readonly events?: readonly NotificationType[]
  readonly format?: NotificationFormat
  readonly enabled?: boolean
}

/** Configuring a project's outgoing webhooks, reading their delivery log, and test-sends. */
export const makeNotificationUseCases = (deps: NotificationUseCaseDeps) => ({
  /** The project's receivers (never their secrets). */
  listTargets: async (projectId: number, ctx: ChangeOrigin): Promise<NotificationTarget[]> => {
    await authorizeProject(deps.repos, projectId, ctx)
    return deps.repos.notifications.listTargets(projectId)
  },

  /** Adds a receiver after checking its URL (422 when refused). */
  createTarget: (projectId: number, input: TargetInput, ctx: ChangeOrigin): Promise<NotificationTarget> =>
    deps.uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      checkUrl(deps.urlPolicy, input.url)
      return tx.notifications.createTarget({
        projectId,
        url: input.url,
        secret: input.secret ?? null,
        events: input.events ?? [],
        format: input.format ?? 'json',
        enabled: input.enabled ?? true,
      })
    }),

  updateTarget: (
    projectId: number,
    targetId: number,
    patch: Partial<TargetInput>,
    ctx: ChangeOrigin,
  ): Promise<NotificationTarget> =>
    deps.uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      if (patch.url !== undefined) checkUrl(deps.urlPolicy, patch.url)
      const updated = await tx.notifications.updateTarget(projectId, targetId, patch)
      return updated ?? notFound(projectId, targetId)
    }),

  deleteTarget: (projectId: number, targetId: number, ctx: ChangeOrigin): Promise<void> =>
    deps.uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      if (!(await tx.notifications.deleteTarget(projectId, targetId))) notFound(projectId, targetId)
    }),

  /** The delivery log, newest first. */
  listDeliveries: async (
    projectId: number,
    page: { readonly limit: number; readonly beforeId?: number },
    ctx: ChangeOrigin,
  ): Promise<NotificationDelivery[]> => {
    await authorizeProject(deps.repos, projectId, ctx)
    return deps.repos.notifications.listDeliveries(projectId, page.limit, page.beforeId)
  },

  /**
   * Queues a `test` notification to one receiver of the project, or to all of them and the
   * global default; delivered (signed, retried, logged) like any other.
   */
  testSend: (
    projectId: number,
    targetId: number | undefined,
    ctx: ChangeOrigin,
  ): Promise<NotificationDelivery[]> =>
    deps.uow.run(async (tx) => {
      const project = await authorizeProject(tx, projectId, ctx)
      if (targetId !== undefined && !(await tx.notifications.findTarget(projectId, targetId)))
        notFound(projectId, targetId)
      const notice = {
        type: 'test' as const,
        projectId,
        protocolRunId: null,
        stepRunId: null,
        protocolName: null,
        status: null,
        reason: null,
        message: `Test notification for project ${project.name}.`,
        occurredAt: new Date().toISOString(),
      }
      const ids = await queueNotice(tx, notice, deps.outbox, targetId)
      if (ids.length === 0)
        throw new AppError(
          'ORC_NOTIFY_NO_RECEIVER',
          `Project ${projectId} has no enabled notification receiver`,
        )
      const deliveries = await Promise.all(ids.map((id) => tx.notifications.findDelivery(id)))
      return deliveries.filter((delivery): delivery is NotificationDelivery => delivery !== undefined)
    }),
})

export type NotificationUseCases = ReturnType<typeof makeNotificationUseCases>

const checkUrl = (policy: NotifyUrlPolicy, url: string): void => {
  const refused = policy.refuse(url)
  if (refused !== undefined)
    throw new AppError('ORC_NOTIFY_URL_REFUSED', `Notification URL ${withoutCredentials(url)} ${refused}`, {
      field: 'url',
    })
}

/** The URL as the caller sent it, minus any user:password (never echoed). */
const withoutCredentials = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@')

const notFound = (projectId: number, targetId: number): never => {
  throw new AppError(
    'ORC_NOTIFY_TARGET_NOT_FOUND',
    `Notification target ${targetId} of project ${projectId} was not found`,
  )
}
