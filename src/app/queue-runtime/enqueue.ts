import { randomUUID } from 'node:crypto'
import type { Job, JobType } from '../../domain/job.js'
import type { JsonObject } from '../../domain/json.js'
import type { ChangeOrigin } from '../context.js'
import type { JobRepository } from '../ports.js'
import type { JobPayloads } from './job-payloads.js'

/**
 * What a job is about, so it can be scoped to a project and cancelled with its run. A job that
 * must outlive its run's end names no run: the precheck cancels jobs of a terminal run, and a
 * notification about a completed run, or review comments on a completed run's PR, must still be
 * handled (docs/decisions.md, notifications and review comments).
 */
export interface JobScope {
  readonly projectId: number | null
  readonly protocolRunId?: number | null
  readonly stepRunId?: number | null
}

export interface JobPolicy {
  readonly maxAttempts: number
}

/**
 * Writes a job to the outbox inside the caller's transaction. The payload gains `job_id` and the
 * originating `request_id`, so worker logs and events trace back to the request.
 */
export const enqueueJob = <T extends JobType>(
  jobs: Pick<JobRepository, 'add'>,
  type: T,
  payload: JobPayloads[T],
  {
    scope,
    origin: ctx,
    policy,
  }: { readonly scope: JobScope; readonly origin: ChangeOrigin; readonly policy: JobPolicy },
): Promise<Job> => {
  const id = randomUUID()
  const traced: JsonObject = { ...(payload as unknown as JsonObject), job_id: id }
  if (ctx.requestId !== undefined) traced.request_id = ctx.requestId
  return jobs.add({
    id,
    type,
    payload: traced,
    maxAttempts: policy.maxAttempts,
    projectId: scope.projectId,
    protocolRunId: scope.protocolRunId ?? null,
    stepRunId: scope.stepRunId ?? null,
  })
}

/** The job types whose payload is one step: its execution or its QA. */
export type StepJobType = 'execute_step_job' | 'run_quality_job'

/** Writes a step's execute or QA job to the outbox, scoped to the step, its run and project. */
export const enqueueStepJob = (
  jobs: Pick<JobRepository, 'add'>,
  type: StepJobType,
  step: { readonly id: number; readonly protocolRunId: number },
  {
    projectId,
    origin: ctx,
    policy,
  }: { readonly projectId: number; readonly origin: ChangeOrigin; readonly policy: JobPolicy },
): Promise<Job> =>
  enqueueJob(
    jobs,
    type,
    { step_run_id: step.id },
    { scope: { projectId, protocolRunId: step.protocolRunId, stepRunId: step.id }, origin: ctx, policy },
  )
