import { CompiledQuery, type Kysely } from 'kysely'
import type { JobRepository } from '../../app/ports.js'
import { DEFAULT_QUEUE, type Job, type NewJob } from '../../domain/job.js'
import { encodeJson, nowIso } from './columns.js'
import { isPostgres } from './dialect.js'
import { arrayRows } from './postgres-array-rows.js'
import { toJob, type JobRow } from './job.table.js'
import type { Database } from './schema.js'

/**
 * The job rows one transaction adds (its outbox), written together by one statement instead of
 * one insert each (docs/performance.md, "Queue"). Nothing reads a row before it is written: the
 * transaction's job repository writes them before any other job statement, and the unit of work
 * before it commits, so the outbox still commits with the state change that implied it.
 */
export interface JobInserts {
  /** Remembers a queued job's row; returns the job exactly as the row will read. */
  add(job: NewJob): Job
  /** Writes the rows remembered so far, if any. */
  flush(): Promise<void>
}

export const deferJobInserts = (db: Kysely<Database>): JobInserts => {
  let pending: QueuedRow[] = []
  const postgres = isPostgres(db)
  return {
    add(job) {
      const row = queuedRow(job)
      pending.push(row)
      return toJob(asRead(row))
    },
    async flush() {
      if (pending.length === 0) return
      const rows = pending
      pending = []
      if (postgres) await db.executeQuery(CompiledQuery.raw(POSTGRES_INSERT, postgresParameters(rows)))
      else
        for (let i = 0; i < rows.length; i += SQLITE_ROWS_PER_INSERT)
          await db
            .insertInto('jobs')
            .values(rows.slice(i, i + SQLITE_ROWS_PER_INSERT))
            .execute()
    },
  }
}

/** `jobs` whose `add` is deferred to `inserts`; every other member first writes what is pending. */
export const withDeferredInserts = (jobs: JobRepository, inserts: JobInserts): JobRepository => {
  const afterFlush =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await inserts.flush()
      return method(...args)
    }
  return {
    add: async (job) => inserts.add(job),
    findById: afterFlush(jobs.findById),
    list: afterFlush(jobs.list),
    counts: afterFlush(jobs.counts),
    cancelForRun: afterFlush(jobs.cancelForRun),
    releaseHeld: afterFlush(jobs.releaseHeld),
    begin: afterFlush(jobs.begin),
    renewLease: afterFlush(jobs.renewLease),
    settle: afterFlush(jobs.settle),
    listStartedForStep: afterFlush(jobs.listStartedForStep),
    precheckFacts: afterFlush(jobs.precheckFacts),
  }
}

/** 12 columns a row: far below SQLite's limit of bound parameters per statement. */
const SQLITE_ROWS_PER_INSERT = 200

/** The columns an added job sets; the rest start null. */
interface QueuedRow extends Pick<
  JobRow,
  'id' | 'job_type' | 'payload' | 'status' | 'queue' | 'attempts' | 'max_attempts' | 'project_id'
> {
  readonly next_run_at: string
  readonly created_at: string
  readonly protocol_run_id: number | null
  readonly step_run_id: number | null
}

/** The row a new job is stored as (queued, no attempts yet); shared with the single-row insert. */
export const queuedRow = (job: NewJob): QueuedRow => {
  const now = nowIso()
  return {
    id: job.id,
    job_type: job.type,
    payload: encodeJson(job.payload) ?? '{}',
    status: 'queued',
    queue: job.queue ?? DEFAULT_QUEUE,
    attempts: 0,
    max_attempts: job.maxAttempts,
    next_run_at: job.nextRunAt ?? now,
    created_at: now,
    project_id: job.projectId,
    protocol_run_id: job.protocolRunId,
    step_run_id: job.stepRunId,
  }
}

const asRead = (row: QueuedRow): JobRow => ({
  ...row,
  started_at: null,
  ended_at: null,
  result: null,
  error: null,
  meta: null,
  locked_by: null,
  locked_until: null,
  relayed_at: null,
})

/**
 * One text whatever the number of rows (parallel arrays, `unnest`): prepared once per connection
 * and planned once (see `arrayRows`), where a `values` list per count would be a new text for each.
 */
const POSTGRES_INSERT = `
  insert into jobs (id, job_type, payload, status, queue, attempts, max_attempts, next_run_at,
    created_at, project_id, protocol_run_id, step_run_id)
  select v.id, v.job_type, v.payload, 'queued', v.queue, 0, v.max_attempts, v.next_run_at,
    v.created_at, v.project_id, v.protocol_run_id, v.step_run_id
  from unnest(${arrayRows(1, 'text')}, ${arrayRows(2, 'text')}, ${arrayRows(3, 'jsonb')},
    ${arrayRows(4, 'text')}, ${arrayRows(5, 'int')}, ${arrayRows(6, 'timestamptz')},
    ${arrayRows(7, 'timestamptz')}, ${arrayRows(8, 'int')}, ${arrayRows(9, 'int')},
    ${arrayRows(10, 'int')})
    as v(id, job_type, payload, queue, max_attempts, next_run_at, created_at, project_id,
      protocol_run_id, step_run_id)`

const postgresParameters = (rows: readonly QueuedRow[]): unknown[] => [
  rows.map((row) => row.id),
  rows.map((row) => row.job_type),
  rows.map((row) => row.payload),
  rows.map((row) => row.queue),
  rows.map((row) => row.max_attempts),
  rows.map((row) => row.next_run_at),
  rows.map((row) => row.created_at),
  rows.map((row) => row.project_id),
  rows.map((row) => row.protocol_run_id),
  rows.map((row) => row.step_run_id),
]
