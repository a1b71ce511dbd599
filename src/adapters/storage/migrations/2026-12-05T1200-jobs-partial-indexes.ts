import { sql, type Migration, type RawBuilder, type SqlBool } from 'kysely'
import type { AnyDb } from './column-types.js'

interface PartialIndex {
  readonly name: string
  readonly columns: string[]
  /** Kept literally in the queries that use the index (job-status-terms.ts): SQLite matches terms by text. */
  readonly where: RawBuilder<SqlBool>
}

/**
 * The queue's lookups of the jobs table cover only the rows each one looks for. A job row is
 * written four times in its life (insert, relay mark, begin, finish), none of them a HOT update,
 * so every full index took an entry per version: 28 per job on seven indexes. A partial index
 * takes one only from the versions its condition holds for, and most versions are in none of
 * these states for long (docs/performance.md, Queue, 2026-12-05 session 9). The listings of all
 * jobs (`jobs_created_idx`, `jobs_project_idx`) stay full: they show every status.
 */
const PARTIAL: readonly PartialIndex[] = [
  // The embedded queue's claim, and listings of queued and delayed jobs.
  { name: 'jobs_due_idx', columns: ['next_run_at', 'created_at'], where: sql<SqlBool>`status = 'queued'` },
  // The outbox relay: queued rows not yet handed to the external queue.
  {
    name: 'jobs_unrelayed_idx',
    columns: ['created_at'],
    where: sql<SqlBool>`status = 'queued' and relayed_at is null`,
  },
  // Running jobs: the precheck's duplicate count, a step's running jobs, expired leases.
  { name: 'jobs_started_idx', columns: ['step_run_id', 'job_type'], where: sql<SqlBool>`status = 'started'` },
  // A run's jobs that its cancellation, resume or abort look for.
  {
    name: 'jobs_run_idx',
    columns: ['protocol_run_id', 'status'],
    where: sql<SqlBool>`status in ('queued', 'held', 'cancelled')`,
  },
  { name: 'jobs_held_idx', columns: ['protocol_run_id'], where: sql<SqlBool>`status = 'held'` },
  // Retention.
  {
    name: 'jobs_ended_idx',
    columns: ['ended_at'],
    where: sql<SqlBool>`status in ('finished', 'failed', 'cancelled')`,
  },
]

/** The full indexes they replace, as 2026-11-25T1700-jobs created them. */
const REPLACED: ReadonlyArray<readonly [string, string[]]> = [
  ['jobs_status_next_run_idx', ['status', 'next_run_at']],
  ['jobs_run_idx', ['protocol_run_id', 'status']],
  ['jobs_step_idx', ['step_run_id', 'status']],
  ['jobs_relay_idx', ['relayed_at', 'status']],
]

/** The same statements on both dialects: SQLite has partial indexes too. */
export const jobsPartialIndexes: Migration = {
  async up(db: AnyDb) {
    for (const [name] of REPLACED) await db.schema.dropIndex(name).ifExists().execute()
    for (const { name, columns, where } of PARTIAL)
      await db.schema.createIndex(name).on('jobs').columns(columns).where(where).execute()
  },
  async down(db: AnyDb) {
    for (const { name } of PARTIAL) await db.schema.dropIndex(name).ifExists().execute()
    for (const [name, columns] of REPLACED)
      await db.schema.createIndex(name).on('jobs').columns(columns).execute()
  },
}
