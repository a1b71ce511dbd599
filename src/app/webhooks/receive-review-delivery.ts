import { isAppError } from '../../domain/app-error.js'
import type { CiNotice, CiProvider } from '../../domain/ci-notice.js'
import type { ReviewNotice } from '../../domain/review-notice.js'
import type { AppDeps } from '../app-deps.js'
import type { ChangeOrigin } from '../context.js'
import { runRetryingConflicts } from '../conflict-retry.js'
import { applyReviewNotice, type ReviewPolicy } from '../reviews/receive-review.js'
import { correlateRun } from './correlate-run.js'
import type { WebhookIdentity } from './verify-webhook.js'
import { isFirstDelivery } from './webhook-candidates.js'

/** The review settings a webhook receiver is configured with (the job policy comes from AppDeps). */
export type ReviewSettings = Omit<ReviewPolicy, 'jobPolicy'>

interface ReviewDeliveryDeps extends Pick<AppDeps, 'uow' | 'jobPolicy'> {
  readonly reviews: ReviewSettings
  readonly count: (provider: CiProvider, outcome: 'duplicate' | 'unmatched' | 'applied') => void
}

/** An authenticated review delivery with what was read from it. */
export interface ReviewDelivery {
  readonly delivery: {
    readonly provider: CiProvider
    readonly deliveryId: string | undefined
    readonly rawBody: Buffer
    readonly protocolRunId: number | undefined
  }
  readonly notice: CiNotice
  readonly review: ReviewNotice
  readonly identity: WebhookIdentity
}

/**
 * A review delivery, after authentication: correlated to a run first — a review on a PR/MR no run
 * owns (providers send every PR of the repository) answers 200 "ignored" and writes nothing, not
 * even the delivery id — then de-duplicated and recorded in one transaction.
 */
export const receiveReview = async (
  deps: ReviewDeliveryDeps,
  { delivery, notice, review, identity }: ReviewDelivery,
  ctx: ChangeOrigin,
): Promise<{ message: string }> => {
  const outcome = await runRetryingConflicts(deps.uow, async (tx) => {
    const run = await correlateRun(tx, notice, identity, delivery.protocolRunId).catch((error: unknown) => {
      if (isAppError(error) && error.code === 'ORC_WEBHOOK_UNMATCHED') return undefined
      throw error
    })
    if (!run) return { kind: 'unmatched' as const }
    if (!(await isFirstDelivery(tx, delivery))) return { kind: 'duplicate' as const }
    const policy = { ...deps.reviews, jobPolicy: deps.jobPolicy }
    return { kind: 'applied' as const, ...(await applyReviewNotice(tx, policy, run, review, ctx)) }
  })
  deps.count(delivery.provider, outcome.kind)
  if (outcome.kind === 'unmatched') return { message: 'Review ignored: no run owns this PR/MR' }
  if (outcome.kind === 'duplicate') return { message: 'Duplicate delivery ignored' }
  return { message: outcome.message }
}
