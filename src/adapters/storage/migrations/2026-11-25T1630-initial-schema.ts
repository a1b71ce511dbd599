import type { Migration } from 'kysely'
import type { Dialect } from '../database.js'
import { columnTypes, type AnyDb } from './column-types.js'

/**
 * The full schema: the original four tables with every column the reference lists, plus the
 * fixes (events.project_id and a nullable run id, a unique run name per project, a stored branch,
 * token/cost accounting, the head SHA a step produced, hashed project tokens) and an index per lookup.
 */
export const initialSchema = (dialect: Dialect): Migration => {
  const t = columnTypes(dialect)
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('projects')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('git_url', 'text', (c) => c.notNull())
        .addColumn('base_branch', 'text', (c) => c.notNull())
        .addColumn('local_path', 'text')
        .addColumn('ci_provider', 'text')
        .addColumn('secrets', t.json)
        .addColumn('api_token_hash', 'text')
        .addColumn('default_models', t.json)
        .addColumn('clarifications', t.json)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('protocol_runs')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
        .addColumn('protocol_name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('base_branch', 'text', (c) => c.notNull())
        .addColumn('branch_name', 'text', (c) => c.notNull())
        .addColumn('worktree_path', 'text')
        .addColumn('protocol_root', 'text')
        .addColumn('description', 'text')
        .addColumn('template_config', t.json)
        .addColumn('template_source', t.json)
        .addColumn('pr_url', 'text')
        .addColumn('pr_number', 'integer')
        .addColumn('tokens_used', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('cost_usd', t.money, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('step_runs')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('protocol_run_id', 'integer', (c) => c.notNull().references('protocol_runs.id'))
        .addColumn('step_index', 'integer', (c) => c.notNull())
        .addColumn('step_name', 'text', (c) => c.notNull())
        .addColumn('step_type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('model', 'text')
        .addColumn('engine_id', 'text')
        .addColumn('policy', t.json)
        .addColumn('runtime_state', t.json)
        .addColumn('summary', 'text')
        .addColumn('tokens_used', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('cost_usd', t.money, (c) => c.notNull().defaultTo(0))
        .addColumn('head_sha', 'text')
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .addColumn('updated_at', t.timestamp, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('events')
        .ifNotExists()
        .addColumn('id', t.id, t.primaryKey)
        .addColumn('project_id', 'integer', (c) => c.notNull().references('projects.id'))
        .addColumn('protocol_run_id', 'integer', (c) => c.references('protocol_runs.id'))
        .addColumn('step_run_id', 'integer', (c) => c.references('step_runs.id'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('metadata', t.json)
        .addColumn('created_at', t.timestamp, (c) => c.notNull())
        .execute()

      // A named unique index rather than a table constraint, so both dialects show the same index.
      await db.schema
        .createIndex('protocol_runs_project_name_unique')
        .ifNotExists()
        .unique()
        .on('protocol_runs')
        .columns(['project_id', 'protocol_name'])
        .execute()
      for (const [name, table, columns] of INDEXES) {
        await db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute()
      }
    },

    async down(db: AnyDb) {
      for (const table of ['events', 'step_runs', 'protocol_runs', 'projects']) {
        await db.schema.dropTable(table).ifExists().execute()
      }
    },
  }
}

const INDEXES: ReadonlyArray<readonly [string, string, string[]]> = [
  ['projects_created_idx', 'projects', ['created_at', 'id']],
  ['protocol_runs_project_created_idx', 'protocol_runs', ['project_id', 'created_at', 'id']],
  ['protocol_runs_branch_idx', 'protocol_runs', ['branch_name']],
  ['protocol_runs_status_idx', 'protocol_runs', ['status']],
  ['step_runs_run_index_idx', 'step_runs', ['protocol_run_id', 'step_index', 'id']],
  ['step_runs_status_idx', 'step_runs', ['status']],
  ['events_run_idx', 'events', ['protocol_run_id', 'id']],
  ['events_project_idx', 'events', ['project_id', 'id']],
  ['events_step_idx', 'events', ['step_run_id', 'id']],
  ['events_created_idx', 'events', ['created_at', 'id']],
  ['events_type_idx', 'events', ['event_type', 'id']],
]
