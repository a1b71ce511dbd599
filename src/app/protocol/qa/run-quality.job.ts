import type { JobHandler } from '../../queue-runtime/job-handler.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { runQualityCheck } from './quality-check.js'

/** run_quality_job: QA of a step in `needs_qa` (a no-op for a step in any other status). */
export const createRunQualityHandler =
  (deps: ProtocolJobDeps): JobHandler<'run_quality_job'> =>
  (payload, job) =>
    runQualityCheck(deps, payload.step_run_id, job, false)
