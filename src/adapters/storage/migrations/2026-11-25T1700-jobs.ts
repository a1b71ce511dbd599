import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * The jobs table: the transactional outbox in every mode, and the queue itself for the embedded
 * backend. A job row is written in the same transaction as the state change that implies it.
 */
export const jobsTable = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('jobs')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_type', 'text', (c) => c.notNull())
        .addColumn('payload', t.json, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('next_run_at', t.timestamp, (c) => c.notNull())
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('started_at', t.timestamp)
        .addColumn('ended_at', t.timestamp)
        .addColumn('result', t.json)
        .addColumn('error', 'text')
        .addColumn('meta', t.json)
        .addColumn('project_id', 'integer', (c) => c.references('projects.id'))
        .addColumn('protocol_run_id', 'integer', (c) => c.references('protocol_runs.id'))
        .addColumn('step_run_id', 'integer', (c) => c.references('step_runs.id'))
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', t.timestamp)
        .addColumn('relayed_at', t.timestamp)
        .execute()
      for (const [name, columns] of JOB_INDEXES) {
        await db.schema.createIndex(name).ifNotExists().on('jobs').columns(columns).execute()
      }
    },
    async down(db: AnyDb) {
      await db.schema.dropTable('jobs').ifExists().execute()
    },
  }
}

const JOB_INDEXES: ReadonlyArray<readonly [string, string[]]> = [
  ['jobs_status_next_run_idx', ['status', 'next_run_at']],
  ['jobs_created_idx', ['created_at', 'id']],
  ['jobs_project_idx', ['project_id', 'created_at']],
  ['jobs_run_idx', ['protocol_run_id', 'status']],
  ['jobs_step_idx', ['step_run_id', 'status']],
  ['jobs_relay_idx', ['relayed_at', 'status']],
]
