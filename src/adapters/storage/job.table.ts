import type { Selectable } from 'kysely'
import type { Job, JobStatus, JobType } from '../../domain/job.js'
import { decodeJson, decodeJsonObject, toIso } from './columns.js'
import type { JobsTable } from './schema.js'

export type JobRow = Selectable<JobsTable>

export const toJob = (row: JobRow): Job => ({
  id: row.id,
  // Only the outbox writes these columns, always with catalogued values.
  type: row.job_type as JobType,
  status: row.status as JobStatus,
  payload: decodeJsonObject(row.payload) ?? {},
  queue: row.queue,
  attempts: Number(row.attempts),
  maxAttempts: Number(row.max_attempts),
  nextRunAt: toIso(row.next_run_at),
  createdAt: toIso(row.created_at),
  startedAt: row.started_at === null ? null : toIso(row.started_at),
  endedAt: row.ended_at === null ? null : toIso(row.ended_at),
  result: decodeJson(row.result),
  error: row.error,
  meta: decodeJsonObject(row.meta),
  projectId: row.project_id,
  protocolRunId: row.protocol_run_id,
  stepRunId: row.step_run_id,
})
