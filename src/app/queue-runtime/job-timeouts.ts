import type { JobType } from '../../domain/job.js'

/** Job types whose handlers run an agent (or a clone) and so get the long timeout. */
const AGENT_JOB_TYPES: ReadonlySet<JobType> = new Set([
  'project_setup_job',
  'plan_protocol_job',
  'execute_step_job',
  'run_quality_job',
])

/** Per job type timeout in milliseconds: long for agent jobs, short for the rest. */
export const jobTimeoutsMs = (
  timeoutSeconds: number,
  agentTimeoutSeconds: number,
): Record<JobType, number> => {
  const ms = (type: JobType): number =>
    (AGENT_JOB_TYPES.has(type) ? agentTimeoutSeconds : timeoutSeconds) * 1000
  return {
    project_setup_job: ms('project_setup_job'),
    plan_protocol_job: ms('plan_protocol_job'),
    execute_step_job: ms('execute_step_job'),
    run_quality_job: ms('run_quality_job'),
    open_pr_job: ms('open_pr_job'),
    codemachine_import_job: ms('codemachine_import_job'),
    spec_audit_job: ms('spec_audit_job'),
    deliver_notification_job: ms('deliver_notification_job'),
    review_followup_job: ms('review_followup_job'),
    base_sync_job: ms('base_sync_job'),
  }
}
