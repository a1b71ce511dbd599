import type { CiProvider } from '../../domain/ci-notice.js'
import type { ReviewComment } from '../../domain/review-notice.js'

/** A run's debounce window: the job that will close it (null: none open) and its counters. */
export interface ReviewWindow {
  readonly jobId: string | null
  /** Windows opened so far; numbers the next window's job id. */
  readonly windows: number
  /** Follow-up rounds dispatched so far, bounded by the loop cap. */
  readonly rounds: number
}

export interface StoredReviewComment extends ReviewComment {
  readonly id: number
  readonly provider: CiProvider
  readonly receivedAt: string
}

/** Review comments waiting for their window to close, and the per-run window. */
export interface ReviewCommentRepository {
  /** Stores comments of a run; one already stored (same provider key) is skipped. Returns the new ones' count. */
  add(protocolRunId: number, provider: CiProvider, comments: readonly ReviewComment[]): Promise<number>
  /**
   * The run's window row, created when absent, written so that it stays locked until the
   * transaction ends: a receiver and the closing job of the same run serialize on it.
   */
  lockWindow(protocolRunId: number): Promise<ReviewWindow>
  /** Writes the window (the caller holds its lock). */
  saveWindow(protocolRunId: number, window: ReviewWindow): Promise<void>
  /** Comments not yet handed to a step, oldest first. */
  listPending(protocolRunId: number): Promise<StoredReviewComment[]>
  /** Marks comments as handed to `stepRunId` (null: dropped without a step). */
  consume(ids: readonly number[], stepRunId: number | null): Promise<void>
}
