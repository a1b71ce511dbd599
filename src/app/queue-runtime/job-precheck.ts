import type { Job } from '../../domain/job.js'
import { DONE_STEP_STATUSES, isTerminalProtocolStatus } from '../../domain/statuses.js'
import type { JobRepository, Repositories, UnitOfWork } from '../ports.js'
import type { JobClaim } from '../job-claim.port.js'
import { appendJobEvent } from './job-events.js'

/** Why a claimed job did not reach its handler; `lost` means another claim owns it now. */
export type PrecheckOutcome = 'proceed' | 'held' | 'cancelled' | 'skipped' | 'dropped' | 'lost'

export interface PrecheckDeps {
  readonly uow: UnitOfWork
  /** Outside any transaction: one-statement reads and settlements. */
  readonly jobs: Pick<JobRepository, 'precheckFacts' | 'settle'>
}

/**
 * Decides whether a claimed job may run: jobs of a terminal run are cancelled, jobs of a paused
 * run are held for its resume, a step job whose step is already done is skipped (a redelivery),
 * and a second `execute_step_job` for a step that another job is executing is dropped with an
 * event. Otherwise the handler runs. The usual case costs one read; every settlement is guarded
 * by the claim's token, so reading outside a transaction decides nothing a racing claim could undo.
 */
export const precheckJob = async (
  deps: PrecheckDeps,
  job: Job,
  claim: JobClaim,
): Promise<PrecheckOutcome> => {
  const facts = await deps.jobs.precheckFacts(job)
  const settle = async (settlement: Parameters<JobRepository['settle']>[1], outcome: PrecheckOutcome) =>
    (await deps.jobs.settle(claim, settlement)) ? outcome : 'lost'
  const runStatus = job.protocolRunId === null ? undefined : facts.runStatus
  if (runStatus !== undefined && isTerminalProtocolStatus(runStatus))
    return settle({ status: 'cancelled', error: `Run is ${runStatus}` }, 'cancelled')
  if (runStatus === 'paused') return settle({ status: 'held' }, 'held')
  if (job.stepRunId === null) return 'proceed'
  if (facts.stepStatus !== undefined && DONE_STEP_STATUSES.includes(facts.stepStatus))
    return settle({ status: 'finished', result: { skipped: `step already ${facts.stepStatus}` } }, 'skipped')
  if (job.type !== 'execute_step_job' || facts.otherStartedForStep === 0) return 'proceed'
  return deps.uow.run((repos) => dropIfDuplicate(repos, job, claim))
}

/** A second `execute_step_job` for a step another job is executing is dropped with an event. */
const dropIfDuplicate = async (repos: Repositories, job: Job, claim: JobClaim): Promise<PrecheckOutcome> => {
  const stepRunId = job.stepRunId ?? -1
  const others = await repos.jobs.listStartedForStep(stepRunId, job.type, job.id)
  const earlier = others.find((other) => startedBefore(other, job))
  if (!earlier) return 'proceed'
  const error = `Step ${stepRunId} is already being executed by job ${earlier.id}`
  if (!(await repos.jobs.settle(claim, { status: 'cancelled', error }))) return 'lost'
  const run = job.protocolRunId === null ? undefined : await repos.runs.findById(job.protocolRunId)
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
