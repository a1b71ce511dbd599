import type { OrchestratorEvent } from '../../domain/event.js'
import type { NotificationType } from '../../domain/notification.js'
import type { TransactionChanges } from '../ports.js'

/** Something a transaction did that people should hear about, before it is addressed to receivers. */
export interface Notice {
  readonly type: NotificationType
  readonly projectId: number
  readonly protocolRunId: number | null
  readonly stepRunId: number | null
  readonly protocolName: string | null
  readonly status: string | null
  readonly reason: string | null
  readonly message: string
  readonly occurredAt: string
  /** Extra fields some types carry (`pr_url` for pr_opened). */
  readonly extra?: Readonly<Record<string, string | number>>
}

/** Run statuses that are worth a notification, each named as its notification type. */
const RUN_STATUS_TYPES: Readonly<Record<string, NotificationType>> = {
  blocked: 'blocked',
  failed: 'failed',
  completed: 'completed',
  waiting_quota: 'waiting_quota',
}

/**
 * The notices a transaction implies: a run reaching blocked, failed, completed or waiting_quota
 * (the reason is the event appended with the change); a step reaching needs_qa with no QA job
 * queued for it and no inline QA coming (so a human is the gate); a pull request opened.
 */
export const deriveNotices = (changes: TransactionChanges): Notice[] => {
  const notices: Notice[] = []
  for (const { run, eventsBefore } of changes.runs) {
    const type = RUN_STATUS_TYPES[run.status]
    if (type === undefined) continue
    const cause = changes.events.slice(eventsBefore).find((event) => event.protocolRunId === run.id)
    notices.push({
      type,
      projectId: run.projectId,
      protocolRunId: run.id,
      stepRunId: cause?.stepRunId ?? null,
      protocolName: run.protocolName,
      status: run.status,
      reason: cause?.eventType ?? null,
      message: cause?.message ?? `Protocol ${run.protocolName} is ${run.status}.`,
      occurredAt: cause?.createdAt ?? new Date().toISOString(),
    })
  }
  for (const { step, event } of changes.steps)
    if (awaitsHuman(step.id, step.status, event, changes))
      notices.push(fromEvent('needs_qa', event, 'needs_qa'))
  for (const event of changes.events) if (event.eventType === 'pr_opened') notices.push(prNotice(event))
  return notices
}

const awaitsHuman = (
  stepId: number,
  status: string,
  event: OrchestratorEvent,
  changes: TransactionChanges,
): boolean =>
  status === 'needs_qa' &&
  event.metadata?.qa_policy !== 'light' &&
  !changes.jobs.some((job) => job.type === 'run_quality_job' && job.stepRunId === stepId)

const fromEvent = (type: NotificationType, event: OrchestratorEvent, status: string | null): Notice => ({
  type,
  projectId: event.projectId,
  protocolRunId: event.protocolRunId,
  stepRunId: event.stepRunId,
  protocolName: null,
  status,
  reason: event.eventType,
  message: event.message,
  occurredAt: event.createdAt,
})

const prNotice = (event: OrchestratorEvent): Notice => {
  const url = event.metadata?.pr_url
  const number = event.metadata?.pr_number
  const extra: Record<string, string | number> = {}
  if (typeof url === 'string') extra.pr_url = url
  if (typeof number === 'number') extra.pr_number = number
  return { ...fromEvent('pr_opened', event, null), extra }
}
