import type { JsonObject, JsonValue } from './json.js'

/** Every job type the workers know, with the original names. */
export const JOB_TYPES = [
  'project_setup_job',
  'plan_protocol_job',
  'execute_step_job',
  'run_quality_job',
  'open_pr_job',
  'codemachine_import_job',
  'spec_audit_job',
  'deliver_notification_job',
  'review_followup_job',
  'base_sync_job',
] as const
export type JobType = (typeof JOB_TYPES)[number]

/**
 * Where a job is in its life. `queued` jobs whose next run lies in the future are reported as
 * `delayed` (a retry waiting for its backoff); `cancelled` jobs were removed with their run;
 * `held` jobs belong to a paused run and wait for its resume.
 */
export const JOB_STATUSES = ['queued', 'started', 'finished', 'failed', 'cancelled', 'held'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

/** The statuses `/queues` reports, in the original order plus `delayed`. */
export const JOB_STAT_KEYS = ['queued', 'started', 'finished', 'failed', 'delayed'] as const
export type JobStatKey = (typeof JOB_STAT_KEYS)[number]

export const DEFAULT_QUEUE = 'default'

export const isJobType = (value: string): value is JobType => (JOB_TYPES as readonly string[]).includes(value)

/** A job as recorded in the database (the outbox and, in embedded mode, the queue itself). */
export interface Job {
  readonly id: string
  readonly type: JobType
  /** The handler's input; always carries `job_id` and, when known, `request_id`. */
  readonly payload: JsonObject
  readonly status: JobStatus
  readonly queue: string
  /** Attempts started so far. */
  readonly attempts: number
  readonly maxAttempts: number
  /** ISO instant before which the job must not start (backoff, delays). */
  readonly nextRunAt: string
  readonly createdAt: string
  readonly startedAt: string | null
  readonly endedAt: string | null
  readonly result: JsonValue | null
  readonly error: string | null
  readonly meta: JsonObject | null
  /** Scope of the job, for project-scoped inspection and cancellation with its run. */
  readonly projectId: number | null
  readonly protocolRunId: number | null
  readonly stepRunId: number | null
}

export interface NewJob {
  readonly id: string
  readonly type: JobType
  readonly payload: JsonObject
  readonly queue?: string
  readonly maxAttempts: number
  readonly nextRunAt?: string
  readonly projectId: number | null
  readonly protocolRunId: number | null
  readonly stepRunId: number | null
}
