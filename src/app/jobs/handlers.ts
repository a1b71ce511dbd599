import { JOB_TYPES, type JobType } from '../../domain/job.js'
import type { UnitOfWork } from '../ports.js'
import { PermanentJobError, type JobHandler, type JobHandlers } from './job-handler.js'

/** What the job handlers need; grows as the handlers arrive. */
export interface JobHandlerDeps {
  readonly uow: UnitOfWork
}

/**
 * A handler for every job type. Types whose handler has not been written yet fail at once (not
 * retried) with a message saying so, instead of disappearing or pretending success.
 */
export const createJobHandlers = (_deps: JobHandlerDeps): JobHandlers => {
  const handlers: Partial<Record<JobType, JobHandler>> = {}
  for (const type of JOB_TYPES) handlers[type] = notImplemented(type)
  return handlers as JobHandlers
}

const notImplemented =
  (type: JobType): JobHandler =>
  async () => {
    throw new PermanentJobError(`${type} is not implemented in this build yet`, 'config')
  }
