import type { JsonObject } from '../domain/json.js'

/** Where a change came from: the HTTP request or the job that caused it. Carried into events and jobs. */
export interface RequestContext {
  readonly requestId?: string
  readonly jobId?: string
  /** The `X-Project-Token` the caller presented, if any; checked by `authorizeProject`. */
  readonly projectToken?: string
}

export const NO_CONTEXT: RequestContext = {}

/** Event metadata plus the ids that trace it back to its request or job (existing keys win). */
export const withTrace = (metadata: JsonObject | undefined, ctx: RequestContext): JsonObject => {
  const traced: JsonObject = { ...metadata }
  if (ctx.requestId !== undefined && !('request_id' in traced)) traced.request_id = ctx.requestId
  if (ctx.jobId !== undefined && !('job_id' in traced)) traced.job_id = ctx.jobId
  return traced
}
