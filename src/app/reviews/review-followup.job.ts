import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { reviewFeedbackState } from '../../domain/review-feedback.js'
import type { StepRun } from '../../domain/step-run.js'
import { resolveReviewMode, type ReviewMode } from '../../domain/review-mode.js'
import { specOfRun } from '../protocol/execution/step-context.js'
import { appendRunEvent } from '../api-events.js'
import type { ChangeOrigin } from '../context.js'
import type { JobPolicy } from '../queue-runtime/enqueue.js'
import type { JobHandler } from '../queue-runtime/job-handler.js'
import { blockRunForHuman } from '../protocol/block-run.js'
import { jobContext } from '../protocol/job-origin.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import { lastExecutedStep } from '../../domain/step-run.js'
import { appendFollowupStep, reopenForFollowup } from './reopen-for-followup.js'
import { worktreeHolder } from '../runs/run-lease.js'
import type { StoredReviewComment } from './review-comments.port.js'
import { reviewIgnoredReason } from './review-eligibility.js'
import { openReviewWindow } from './review-window.js'

export interface ReviewJobDeps {
  readonly uow: UnitOfWork
  readonly config: { readonly jobs: JobPolicy }
}

interface Round {
  readonly tx: Repositories
  readonly run: ProtocolRun
  readonly pending: readonly StoredReviewComment[]
  readonly policy: {
    debounceSeconds: number
    maxRounds: number
    jobPolicy: JobPolicy
    mode: ReviewMode
  }
  readonly ctx: ChangeOrigin
}

/**
 * review_followup_job: closes a run's debounce window. Its pending comments re-open the step
 * executed last (mode `reopen_last_step`) or go to a new step appended after the last one (mode
 * `new_step`; the spec's mode wins over the project's, which wins over the server's), with the
 * comments in `runtime_state.review_feedback` (the prompt shows them), and the run goes back to
 * `running`; past the loop cap the run blocks (`needs_human`). A step still running, or anyone
 * else at work in the worktree, defers the comments to a new window. A job that no longer owns
 * the window is a no-op, so a duplicate delivery does nothing.
 */
export const createReviewFollowupHandler =
  (deps: ReviewJobDeps): JobHandler<'review_followup_job'> =>
  async (payload, job) => {
    const ctx = jobContext(job.jobId)
    return deps.uow.run(async (tx): Promise<JsonObject> => {
      const window = await tx.reviews.lockWindow(payload.protocol_run_id)
      if (window.jobId !== job.jobId) return { skipped: 'window closed by another job' }
      await tx.reviews.saveWindow(payload.protocol_run_id, { ...window, jobId: null })
      const run = await tx.runs.findById(payload.protocol_run_id)
      const pending = await tx.reviews.listPending(payload.protocol_run_id)
      if (!run || pending.length === 0) return { skipped: 'no pending review comment' }
      const policy = {
        debounceSeconds: payload.debounce_seconds,
        maxRounds: payload.max_rounds,
        jobPolicy: deps.config.jobs,
        mode: payload.review_mode ?? 'reopen_last_step',
      }
      const round: Round = { tx, run, pending, policy, ctx }
      const ignored = await reviewIgnoredReason(tx, run)
      if (ignored !== undefined) return drop(round, ignored)
      const step = lastExecutedStep(await tx.steps.listByRun(run.id))
      if (!step) return drop(round, 'the run has no step to re-open')
      const waitFor = await reasonToWait(tx, run, step)
      if (waitFor !== undefined) {
        await openReviewWindow(tx, policy, run, { ...window, jobId: null }, ctx)
        return { deferred: waitFor }
      }
      if (window.rounds >= policy.maxRounds) return blockForHuman(round, window.rounds)
      await tx.reviews.saveWindow(run.id, { ...window, jobId: null, rounds: window.rounds + 1 })
      const mode = await modeOf(tx, run, policy.mode)
      return mode === 'new_step'
        ? addStep(round, step, window.rounds + 1)
        : reopenStep(round, step, window.rounds + 1)
    })
  }

/**
 * Why the comments cannot re-open a step now: it is running, the run is paused, or someone is at
 * work in the worktree (a step under QA, a base sync) and the re-opened step could not start.
 */
const reasonToWait = async (
  tx: Repositories,
  run: ProtocolRun,
  step: StepRun,
): Promise<string | undefined> => {
  if (step.status === 'running') return 'step running'
  if (run.status === 'paused') return 'run paused'
  const busy = await worktreeHolder(tx, run.id)
  return busy && `step ${busy.holder.stepName} is ${busy.activity}`
}

const reopenStep = async ({ tx, run, pending, policy, ctx }: Round, step: StepRun, round: number) => {
  const state = { review_feedback: reviewFeedbackState(pending, round, step.headSha) }
  const reopened = await reopenForFollowup(
    tx,
    { run, step, state, reason: 'review comments' },
    policy.jobPolicy,
    ctx,
  )
  await tx.reviews.consume(
    pending.map((c) => c.id),
    step.id,
  )
  const metadata: JsonObject = {
    round,
    comments: pending.length,
    job_id: reopened.job.id,
    mode: 'reopen_last_step',
  }
  const message = `Step ${step.stepName} re-opened with ${pending.length} review comment(s) (round ${round}).`
  await appendRunEvent(tx, reopened.run, { type: 'review_step_reopened', message, metadata }, ctx, step.id)
  return { reopened: step.id, round, comments: pending.length }
}

/** The run's spec names the mode, else its project, else the server default the window carried. */
const modeOf = async (tx: Repositories, run: ProtocolRun, fallback: ReviewMode): Promise<ReviewMode> => {
  const project = await tx.projects.findById(run.projectId)
  return resolveReviewMode(specOfRun(run)?.review_mode, project?.reviewMode ?? null, fallback)
}

/** Mode `new_step`: a step after the last one, whose prompt is the comments (it has no step file). */
const addStep = async ({ tx, run, pending, policy, ctx }: Round, last: StepRun, round: number) => {
  const state = { review_feedback: reviewFeedbackState(pending, round, null, true) }
  const added = await appendFollowupStep(
    tx,
    {
      run,
      after: last,
      name: `review-round-${round}.md`,
      stepType: 'review',
      state,
      reason: 'review comments',
    },
    policy.jobPolicy,
    ctx,
  )
  await tx.reviews.consume(
    pending.map((c) => c.id),
    added.step.id,
  )
  const metadata: JsonObject = {
    round,
    comments: pending.length,
    job_id: added.job.id,
    mode: 'new_step',
    after_step_id: last.id,
  }
  const message = `Step ${added.step.stepName} added with ${pending.length} review comment(s) (round ${round}).`
  await appendRunEvent(tx, added.run, { type: 'review_step_added', message, metadata }, ctx, added.step.id)
  return { added: added.step.id, round, comments: pending.length }
}

const blockForHuman = async ({ tx, run, pending, ctx }: Round, rounds: number) => {
  await tx.reviews.consume(
    pending.map((c) => c.id),
    null,
  )
  await blockRunForHuman(
    tx,
    run,
    {
      type: 'review_loop_limit_reached',
      message: `Review loop cap reached after ${rounds} round(s); a human must take over.`,
      metadata: { rounds, comments: pending.length },
    },
    ctx,
  )
  return { blocked: 'needs_human', rounds }
}

const drop = async ({ tx, run, pending, ctx }: Round, why: string) => {
  await tx.reviews.consume(
    pending.map((c) => c.id),
    null,
  )
  await appendRunEvent(tx, run, { type: 'review_ignored', message: `Review ignored: ${why}.` }, ctx)
  return { skipped: why }
}
