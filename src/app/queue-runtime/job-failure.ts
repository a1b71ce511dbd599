import type { Job } from '../../domain/job.js'
import { backoffDelayMs, type BackoffPolicy } from '../../domain/job-policy.js'
import { canProtocol, canStep } from '../../domain/transitions.js'
import { changeRunStatus, changeStepStatus } from '../state-changes.js'
import type { Repositories } from '../ports.js'
import type { JobClaim } from '../job-claim.port.js'
import type { ClassifiedError } from './job-errors.js'
import { appendJobEvent, jobContext } from './job-events.js'

export type FailureOutcome = 'retry' | 'failed' | 'lost'

/**
 * Records a failed attempt. A retryable error with attempts left schedules the next attempt
 * (`job_retry_scheduled`); otherwise the job fails for good: `job_failed` on the run, the run
 * blocked and the step failed — each only where the transition table allows it, so a run the
 * user cancelled meanwhile stays cancelled (the event is still recorded).
 */
export const recordFailure = async (
  repos: Repositories,
  job: Job,
  claim: JobClaim,
  error: ClassifiedError,
  policy: BackoffPolicy,
): Promise<FailureOutcome> => {
  const final = !error.retryable || claim.attempt >= claim.maxAttempts
  const run = job.protocolRunId === null ? undefined : await repos.runs.findById(job.protocolRunId)
  const metadata = {
    error: error.message,
    error_type: error.type,
    error_category: error.category,
    attempts: claim.attempt,
    max_attempts: claim.maxAttempts,
    job_id: job.id,
  }
  if (!final) {
    const delayMs = backoffDelayMs(claim.attempt, policy)
    const nextRunAt = new Date(Date.now() + delayMs).toISOString()
    if (!(await repos.jobs.settle(claim, { status: 'queued', error: error.message, nextRunAt })))
      return 'lost'
    const message = `${job.type} attempt ${claim.attempt} of ${claim.maxAttempts} failed; retrying in ${delayMs} ms: ${error.message}`
    await appendJobEvent(repos, job, run, {
      type: 'job_retry_scheduled',
      message,
      metadata: { ...metadata, delay_ms: delayMs, next_run_at: nextRunAt },
    })
    return 'retry'
  }
  if (!(await repos.jobs.settle(claim, { status: 'failed', error: error.message }))) return 'lost'
  const event = { type: 'job_failed', message: `${job.type} failed: ${error.message}`, metadata }
  if (run && canProtocol(run.status, 'block'))
    await changeRunStatus(repos, run, 'block', { event, origin: jobContext(job) })
  else await appendJobEvent(repos, job, run, event)
  await failStep(repos, job, event.message)
  return 'failed'
}

const failStep = async (repos: Repositories, job: Job, summary: string): Promise<void> => {
  if (job.stepRunId === null) return
  const step = await repos.steps.findById(job.stepRunId)
  if (!step || !canStep(step.status, 'fail')) return
  const projectId = job.projectId ?? (await repos.runs.findById(step.protocolRunId))?.projectId
  if (projectId === undefined) return
  const event = { type: 'step_failed', message: summary, metadata: { job_id: job.id } }
  await changeStepStatus(repos, { id: step.protocolRunId, projectId }, step, {
    action: 'fail',
    event,
    origin: jobContext(job),
    patch: {
      summary,
    },
  })
}
