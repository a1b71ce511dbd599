import type { Job } from '../../domain/job.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'

/** The request and job a job's writes trace back to. */
export const jobContext = (job: Job): ChangeOrigin => {
  const requestId = job.payload.request_id
  return typeof requestId === 'string' ? { requestId, jobId: job.id } : { jobId: job.id }
}

/**
 * Appends an event about a job on its run (or its project when it has no run). Jobs with
 * neither (a global spec audit) have nowhere to record it and only log.
 */
export const appendJobEvent = async (
  repos: Pick<Repositories, 'events'>,
  job: Job,
  run: Pick<ProtocolRun, 'id' | 'projectId'> | undefined,
  event: { readonly type: string; readonly message: string; readonly metadata: JsonObject },
): Promise<void> => {
  const projectId = run?.projectId ?? job.projectId
  if (projectId === null) return
  await repos.events.append({
    projectId,
    protocolRunId: run?.id ?? null,
    stepRunId: job.stepRunId,
    eventType: event.type,
    message: event.message,
    metadata: withTrace(event.metadata, jobContext(job)),
  })
}
