import type { Job } from '../../domain/job.js'
import { DONE_STEP_STATUSES, isTerminalProtocolStatus } from '../../domain/statuses.js'
import type { Repositories } from '../ports.js'
import type { JobClaim } from './job-claim.js'
import { appendJobEvent } from './job-events.js'

/** Why a claimed job did not reach its handler; `lost` means another claim owns it now. */
export type PrecheckOutcome = 'proceed' | 'held' | 'cancelled' | 'skipped' | 'dropped' | 'lost'

/**
 * Decides, in the transaction that reads the run, whether a claimed job may run: jobs of a
 * terminal run are cancelled, jobs of a paused run are held for its resume, a step job whose step
 * is already done is skipped (a redelivery), and a second `execute_step_job` for a step that
 * another job is executing is dropped with an event. Otherwise the handler runs.
 */
export const precheckJob = async (
  repos: Repositories,
  job: Job,
  claim: JobClaim,
): Promise<PrecheckOutcome> => {
  const run = job.protocolRunId === null ? undefined : await repos.runs.findById(job.protocolRunId)
  if (run && isTerminalProtocolStatus(run.status)) {
    const settled = await repos.jobs.settle(claim, { status: 'cancelled', error: `Run is ${run.status}` })
    return settled ? 'cancelled' : 'lost'
  }
  if (run?.status === 'paused') return (await repos.jobs.settle(claim, { status: 'held' })) ? 'held' : 'lost'
  if (job.stepRunId === null) return 'proceed'
  const step = await repos.steps.findById(job.stepRunId)
  if (step && DONE_STEP_STATUSES.includes(step.status)) {
    const result = { skipped: `step already ${step.status}` }
    return (await repos.jobs.settle(claim, { status: 'finished', result })) ? 'skipped' : 'lost'
  }
  if (job.type !== 'execute_step_job') return 'proceed'
  const others = await repos.jobs.listStartedForStep(job.stepRunId, job.type, job.id)
  const earlier = others.find((other) => startedBefore(other, job))
  if (!earlier) return 'proceed'
  const error = `Step ${job.stepRunId} is already being executed by job ${earlier.id}`
  if (!(await repos.jobs.settle(claim, { status: 'cancelled', error }))) return 'lost'
  await appendJobEvent(repos, job, run, {
    type: 'job_duplicate_dropped',
    message: `${job.type} dropped: ${error}`,
    metadata: { job_id: job.id, running_job_id: earlier.id },
  })
  return 'dropped'
}

/** Ties on the start instant are broken by id, so of two concurrent duplicates exactly one runs. */
const startedBefore = (a: Job, b: Job): boolean => {
  const at = a.startedAt ?? ''
  const bt = b.startedAt ?? ''
  return at < bt || (at === bt && a.id < b.id)
}
