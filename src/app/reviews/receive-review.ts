import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { ReviewMode } from '../../domain/review-mode.js'
import { commentsFromOthers, type ReviewNotice } from '../../domain/review-notice.js'
import { appendRunEvent } from '../api-events.js'
import type { ChangeOrigin } from '../context.js'
import type { JobPolicy } from '../queue-runtime/enqueue.js'
import type { Repositories } from '../ports.js'
import { reviewIgnoredReason } from './review-eligibility.js'
import { openReviewWindow } from './review-window.js'

/** How review comments are gathered: the debounce window, our own logins and the loop cap. */
export interface ReviewPolicy {
  readonly debounceSeconds: number
  readonly botLogins: readonly string[]
  readonly maxRounds: number
  readonly jobPolicy: JobPolicy
  /** TASKSGODZILLA_REVIEW_MODE: the mode when neither the run's spec nor its project names one. */
  readonly mode?: ReviewMode
}

/**
 * Records a review delivery on its run, inside the caller's transaction (the delivery was
 * authenticated and de-duplicated there): comments by the server's own account are dropped, the
 * rest wait in `review_comments`, and the run's debounce window is opened when none is, so that
 * every comment of one review reaches the agent as one follow-up when the window closes.
 */
export const applyReviewNotice = async (
  tx: Repositories,
  policy: ReviewPolicy,
  run: ProtocolRun,
  review: ReviewNotice,
  ctx: ChangeOrigin,
): Promise<{ message: string }> => {
  const others = commentsFromOthers(review.comments, policy.botLogins)
  const metadata: JsonObject = {
    provider: review.provider,
    event: review.event,
    pr_number: review.prNumber,
    comments: others.length,
    own_comments_ignored: review.comments.length - others.length,
  }
  const received = `Review ${review.event} on ${review.provider === 'github' ? 'PR' : 'MR'} #${review.prNumber ?? '?'}: ${others.length} comment(s)`
  await appendRunEvent(tx, run, { type: 'review_received', message: received, metadata }, ctx)
  const ignored = others.length === 0 ? 'no comment for the agent' : await reviewIgnoredReason(tx, run)
  if (ignored !== undefined) {
    await appendRunEvent(tx, run, { type: 'review_ignored', message: `Review ignored: ${ignored}.` }, ctx)
    return { message: `Review ignored: ${ignored}` }
  }
  const window = await tx.reviews.lockWindow(run.id)
  const added = await tx.reviews.add(run.id, review.provider, others)
  if (added === 0) return { message: 'Review comments already recorded' }
  const opened = await openReviewWindow(tx, policy, run, window, ctx)
  return { message: opened ? 'Review recorded; follow-up scheduled' : 'Review recorded' }
}
