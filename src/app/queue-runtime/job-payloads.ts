import type { ReviewMode } from '../../domain/review-mode.js'
import type { JobType } from '../../domain/job.js'

/** Keys every payload carries besides its own (the original copies `job_id` into the payload). */
export interface TracedPayload {
  readonly job_id: string
  /** The request that caused the job, when there was one. */
  readonly request_id?: string
}

/** Each job type's own payload keys, with the original names. */
export interface JobPayloads {
  project_setup_job: { project_id: number; protocol_run_id: number }
  plan_protocol_job: { protocol_run_id: number }
  execute_step_job: { step_run_id: number }
  run_quality_job: { step_run_id: number }
  open_pr_job: { protocol_run_id: number }
  /** Closes a run's review debounce window: its pending comments become one follow-up. */
  /** Brings a run's branch up to date with its base after the base moved (push webhook). */
  base_sync_job: { protocol_run_id: number }
  review_followup_job: {
    protocol_run_id: number
    debounce_seconds: number
    max_rounds: number
    /** The server default (TASKSGODZILLA_REVIEW_MODE) when the window opened; absent: reopen_last_step. */
    review_mode?: ReviewMode
  }
  codemachine_import_job: { project_id: number; protocol_run_id: number; workspace_path: string }
  spec_audit_job: {
    project_id: number | null
    protocol_id: number | null
    backfill_missing: boolean
    interval_override?: number | null
  }
  deliver_notification_job: { delivery_id: number }
}

export type PayloadOf<T extends JobType> = JobPayloads[T] & TracedPayload
