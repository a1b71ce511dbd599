import type { ChangeOrigin } from '../context.js'

/** The context a job's writes are traced with. */
export const jobContext = (jobId: string): ChangeOrigin => ({ jobId })
