import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { POSTGRES_ONLY_INDEXES } from '../../src/adapters/storage/migrations/2026-11-25T1900-event-txid.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import {
  READ_SCOPE_POSTGRES_INDEXES,
  SQLITE_ONLY_TABLES,
} from '../../src/adapters/storage/migrations/2026-12-05T1020-read-scopes.js'
import { createTestDatabase, PG_URL } from '../support/databases.js'

interface SchemaShape {
  readonly tables: Record<string, string[]>
  readonly indexes: string[]
}

const shapeOf = async (handle: DatabaseHandle): Promise<SchemaShape> => {
  const tables = await handle.db.introspection.getTables()
  const shape: Record<string, string[]> = {}
  for (const table of tables) shape[table.name] = table.columns.map((c) => c.name).sort()
  const indexQuery =
    handle.dialect === 'sqlite'
      ? sql<{
          name: string
        }>`select name from sqlite_master where type = 'index' and name not like 'sqlite_%'`
      : sql<{
          name: string
        }>`select indexname as name from pg_indexes where schemaname = 'public' and indexname not like '%_pkey'`
  const indexes = (await indexQuery.execute(handle.db)).rows.map((r) => r.name).sort()
  return { tables: shape, indexes }
}

const migratedShape = async (dialect: 'sqlite' | 'postgres'): Promise<SchemaShape & { second: string[] }> => {
  const database = await createTestDatabase(dialect)
  const handle = openDatabase(database.target)
  try {
    await migrateToLatest(handle)
    const shape = await shapeOf(handle)
    const second = (await migrateToLatest(handle)).applied
    expect(await shapeOf(handle)).toEqual(shape)
    return { ...shape, second }
  } finally {
    await handle.close()
    await database.drop()
  }
}

describe('migrations', () => {
  it('create the tables with their lookup indexes on SQLite, and change nothing the second time', async () => {
    const sqlite = await migratedShape('sqlite')
    expect(Object.keys(sqlite.tables).sort()).toEqual([
      'engine_limits',
      'events',
      'jobs',
      'mcp_tasks',
      'notification_deliveries',
      'notification_targets',
      'projects',
      'protocol_runs',
      'read_scopes',
      'review_comments',
      'review_windows',
      'run_leases',
      'step_runs',
      'webhook_deliveries',
    ])
    expect(sqlite.tables.events).toContain('project_id')
    expect(sqlite.tables.projects).toContain('review_mode')
    expect(sqlite.indexes).toContain('events_created_idx')
    expect(sqlite.indexes).toContain('protocol_runs_branch_idx')
    expect(sqlite.second).toEqual([])
  })

  it.skipIf(!PG_URL)('yield the same tables, columns and indexes on Postgres as on SQLite', async () => {
    const [sqlite, postgres] = await Promise.all([migratedShape('sqlite'), migratedShape('postgres')])
    const sqliteOnly = new Set(SQLITE_ONLY_TABLES)
    const shared = Object.fromEntries(Object.entries(sqlite.tables).filter(([name]) => !sqliteOnly.has(name)))
    expect(postgres.tables).toEqual(shared)
    // Postgres lists events by (txid, id) and a project's runs by stamp: indexes SQLite does not need.
    expect(postgres.indexes).toEqual(
      [...sqlite.indexes, ...POSTGRES_ONLY_INDEXES, ...READ_SCOPE_POSTGRES_INDEXES].sort(),
    )
    expect(postgres.second).toEqual([])
  })
})
