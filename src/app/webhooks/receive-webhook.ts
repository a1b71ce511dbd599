import { AppError } from '../../domain/app-error.js'
import type { CiNotice, CiProvider } from '../../domain/ci-notice.js'
import { githubNotice } from '../../domain/github-notice.js'
import { gitlabNotice } from '../../domain/gitlab-notice.js'
import { reviewNoticeOf } from '../../domain/review-notice.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { appendRunEvent } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import type { ChangeOrigin } from '../context.js'
import { runRetryingConflicts } from '../conflict-retry.js'
import type { GitClient } from '../git.port.js'
import { applyCiNotice, type CiPolicy } from './apply-ci-notice.js'
import { receiveReview, type ReviewSettings } from './receive-review-delivery.js'
import { receiveBasePush } from '../protocol-merge/receive-base-push.js'
import { correlateRun } from './correlate-run.js'
import { verifyWebhook, type WebhookCredentials } from './verify-webhook.js'
import { candidateSecrets, isFirstDelivery, type DeliveryClaims } from './webhook-candidates.js'

export const WEBHOOK_OUTCOMES = ['received', 'unauthorized', 'duplicate', 'unmatched', 'applied'] as const
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number]

export interface WebhookDelivery extends WebhookCredentials {
  readonly provider: CiProvider
  readonly event: string
  readonly deliveryId: string | undefined
  readonly rawBody: Buffer
  readonly protocolRunId: number | undefined
}

export interface WebhookDeps extends Pick<AppDeps, 'uow' | 'repos' | 'jobPolicy'>, CiPolicy {
  readonly globalSecret: string | undefined
  readonly allowUnsigned: boolean
  readonly git: Pick<GitClient, 'locateRepo' | 'removeWorktree'>
  /** Counts deliveries by provider and outcome (`webhooks_total`). */
  readonly count: (provider: CiProvider, outcome: WebhookOutcome) => void
  /** PR/MR review comments (TASKSGODZILLA_REVIEW_*, TASKSGODZILLA_BOT_LOGIN). */
  readonly reviews: ReviewSettings
}

/**
 * Receives one provider delivery: authenticated over the raw bytes first (against the secrets of
 * the projects it claims to be about), parsed, de-duplicated by its delivery id and by its signed
 * body, correlated to a run and applied — dedupe, events and state changes in one
 * transaction. A merged PR/MR then has its worktree removed (the branch stays).
 */
export const makeReceiveWebhook =
  (deps: WebhookDeps) =>
  async (delivery: WebhookDelivery, ctx: ChangeOrigin): Promise<{ message: string }> => {
    const identity = await authenticate(deps, delivery, claimsOf(delivery))
    deps.count(delivery.provider, 'received')
    const payload = parsePayload(delivery.rawBody)
    if (delivery.provider === 'github' && delivery.event === 'ping') return { message: 'pong' }
    const notice = noticeOf(delivery, payload)
    const review = reviewNoticeOf(delivery.provider, delivery.event, payload)
    if (review) return receiveReview(deps, { delivery, notice, review, identity }, ctx)
    const basePush = await receiveBasePush(deps, { delivery, notice, identity }, ctx)
    if (basePush) return basePush
    const outcome = await runRetryingConflicts(deps.uow, async (tx) => {
      if (!(await isFirstDelivery(tx, delivery))) return { duplicate: true as const }
      const run = await correlateRun(tx, notice, identity, delivery.protocolRunId).catch((error: unknown) => {
        deps.count(delivery.provider, 'unmatched')
        throw error
      })
      const applied = await applyCiNotice(tx, deps, run, notice, ctx)
      return { duplicate: false as const, run, merged: applied.merged }
    })
    if (outcome.duplicate) {
      deps.count(delivery.provider, 'duplicate')
      return { message: 'Duplicate delivery ignored' }
    }
    deps.count(delivery.provider, 'applied')
    if (outcome.merged) await removeWorktree(deps, outcome.run, ctx)
    return { message: 'Webhook recorded' }
  }

const authenticate = async (deps: WebhookDeps, delivery: WebhookDelivery, claims: DeliveryClaims) => {
  const { secrets, configured } = await candidateSecrets(deps.repos, claims, deps.globalSecret)
  try {
    if (configured && secrets.length === 0)
      throw new AppError(
        'ORC_WEBHOOK_UNAUTHORIZED',
        `Invalid webhook ${delivery.provider === 'github' ? 'signature' : 'token'}`,
      )
    return verifyWebhook(delivery.provider, delivery.rawBody, delivery, secrets, deps.allowUnsigned)
  } catch (error) {
    deps.count(delivery.provider, 'unauthorized')
    throw error
  }
}

/** What the payload claims, read leniently: a body that does not parse simply claims nothing. */
const claimsOf = (delivery: WebhookDelivery): DeliveryClaims => {
  try {
    return {
      notice: noticeOf(delivery, parsePayload(delivery.rawBody)),
      protocolRunId: delivery.protocolRunId,
    }
  } catch {
    return { notice: undefined, protocolRunId: delivery.protocolRunId }
  }
}

const parsePayload = (raw: Buffer): JsonObject => {
  const text = raw.toString('utf8').trim()
  if (text === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new AppError('ORC_BAD_REQUEST', 'Malformed JSON body')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('ORC_BAD_REQUEST', 'Webhook payload must be a JSON object')
  }
  return parsed as JsonObject
}

/** The CI notice of a delivery; a review's PR/MR branch and repository stand in for the CI ones. */
const noticeOf = (delivery: WebhookDelivery, payload: JsonObject): CiNotice => {
  const notice =
    delivery.provider === 'github'
      ? githubNotice(delivery.event, payload)
      : gitlabNotice(delivery.event, payload)
  const review = reviewNoticeOf(delivery.provider, delivery.event, payload)
  return review
    ? { ...notice, branch: review.branch, prNumber: review.prNumber, repositoryUrls: review.repositoryUrls }
    : notice
}

const removeWorktree = async (deps: WebhookDeps, run: ProtocolRun, ctx: ChangeOrigin): Promise<void> => {
  const project = await deps.repos.projects.findById(run.projectId)
  if (!project) return
  try {
    const repo = deps.git.locateRepo({ gitUrl: project.gitUrl, localPath: project.localPath })
    if (!repo.exists) return
    await deps.git.removeWorktree(repo.path, run.protocolName, AbortSignal.timeout(60_000))
    const event = {
      type: 'worktree_removed',
      message: `Worktree of ${run.protocolName} removed after merge; branch kept.`,
    }
    await deps.uow.run((tx) => appendRunEvent(tx, run, event, ctx))
  } catch {
    // Best effort: the merge is recorded either way, and a stale worktree is only disk space.
  }
}
