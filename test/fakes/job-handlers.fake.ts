import type { JobHandler, JobHandlers } from '../../src/app/queue-runtime/job-handler.js'
import { JOB_TYPES, type JobType } from '../../src/domain/job.js'

/** A complete handler set in which every job type runs `handler` (type-checked against JobHandlers). */
export const handlersRunning = (handler: JobHandler): JobHandlers =>
  Object.fromEntries(JOB_TYPES.map((type: JobType) => [type, handler])) as unknown as JobHandlers
