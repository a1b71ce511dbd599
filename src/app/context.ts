import type { JsonObject } from '../domain/json.js'

/**
 * Where a change came from: the HTTP request or the job that caused it (and the project token the
 * caller presented). Carried into events and jobs so that each traces back to its origin.
 */
export interface ChangeOrigin {
  readonly requestId?: string
  readonly jobId?: string
  /** The `X-Project-Token` the caller presented, if any; checked by `authorizeProject`. */
  readonly projectToken?: string
}

export const NO_ORIGIN: ChangeOrigin = {}

/** Event metadata plus the ids that trace it back to its request or job (existing keys win). */
export const withTrace = (metadata: JsonObject | undefined, ctx: ChangeOrigin): JsonObject => {
  const traced: JsonObject = { ...metadata }
  if (ctx.requestId !== undefined && !('request_id' in traced)) traced.request_id = ctx.requestId
  if (ctx.jobId !== undefined && !('job_id' in traced)) traced.job_id = ctx.jobId
  return traced
}
