import { sql, type RawBuilder } from 'kysely'
import type { JobStatus } from '../../domain/job.js'

/**
 * Job statuses written into a statement as SQL literals, not bound parameters. The jobs table's
 * lookups are partial indexes on the status (migration 2026-12-05T1200-jobs-partial-indexes), and
 * a planner can only use one when the statement itself says its rows are in the index: Postgres
 * cannot prove that of a parameter in the generic plan it keeps for a prepared statement, and
 * SQLite matches the index's condition against the statement's terms by their text. Every query
 * of the queue that needs one of those indexes states the status this way
 * (test/integration/job-index-plans.test.ts).
 */
export const statusLiteral = (status: JobStatus): RawBuilder<JobStatus> => sql.lit(status)

export const statusLiterals = (statuses: readonly JobStatus[]): Array<RawBuilder<JobStatus>> =>
  statuses.map(statusLiteral)

/** The statuses `jobs_run_idx` covers, in its condition's order: a run's queries repeat the term. */
export const RUN_INDEXED = ['queued', 'held', 'cancelled'] as const satisfies readonly JobStatus[]
export type RunIndexedStatus = (typeof RUN_INDEXED)[number]

/** Ended jobs, in `jobs_ended_idx`'s condition's order (retention). */
export const ENDED: readonly JobStatus[] = ['finished', 'failed', 'cancelled']
