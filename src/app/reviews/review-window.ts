import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { ReviewMode } from '../../domain/review-mode.js'
import { appendRunEvent } from '../api-events.js'
import type { ChangeOrigin } from '../context.js'
import type { JobPolicy } from '../queue-runtime/enqueue.js'
import type { Repositories } from '../ports.js'
import type { ReviewWindow } from './review-comments.port.js'

/** What opening a window needs: its length and the loop cap the closing job applies. */
export interface WindowPolicy {
  readonly debounceSeconds: number
  readonly maxRounds: number
  readonly jobPolicy: JobPolicy
  /** The server default mode, carried to the closing job (the spec and the project are read there). */
  readonly mode?: ReviewMode
}

/**
 * The job id of a run's n-th window. Deterministic, so a window is closed by exactly one job
 * whatever number of deliveries (and retries of them) fell into it.
 */
export const reviewJobId = (runId: number, window: number): string => `review_followup_job:${runId}:${window}`

/**
 * Opens the run's debounce window when none is open (the caller holds the window lock): the
 * closing job goes to the outbox delayed by the window's length. Returns whether one was opened.
 */
export const openReviewWindow = async (
  tx: Repositories,
  policy: WindowPolicy,
  run: ProtocolRun,
  window: ReviewWindow,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  if (window.jobId !== null) return false
  const number = window.windows + 1
  const id = reviewJobId(run.id, number)
  const runAt = new Date(Date.now() + policy.debounceSeconds * 1000).toISOString()
  const payload = {
    protocol_run_id: run.id,
    debounce_seconds: policy.debounceSeconds,
    max_rounds: policy.maxRounds,
    ...(policy.mode === undefined ? {} : { review_mode: policy.mode }),
    job_id: id,
    ...(ctx.requestId === undefined ? {} : { request_id: ctx.requestId }),
  }
  await tx.jobs.add({
    id,
    type: 'review_followup_job',
    payload,
    maxAttempts: policy.jobPolicy.maxAttempts,
    nextRunAt: runAt,
    projectId: run.projectId,
    // Not scoped to the run: the queue cancels the jobs of a completed run before their handler,
    // and this one is meant for completed runs whose PR is still open. The handler checks the run.
    protocolRunId: null,
    stepRunId: null,
  })
  await tx.reviews.saveWindow(run.id, { ...window, jobId: id, windows: number })
  const metadata = { job_id: id, run_at: runAt, debounce_seconds: policy.debounceSeconds }
  const message = `Review follow-up scheduled in ${policy.debounceSeconds}s.`
  await appendRunEvent(tx, run, { type: 'review_followup_scheduled', message, metadata }, ctx)
  return true
}
