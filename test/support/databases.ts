import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { DatabaseTarget } from '../../src/config.js'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'

export const PG_URL = process.env.TASKSGODZILLA_TEST_PG_URL
export const DIALECTS = ['sqlite', 'postgres'] as const
export type TestDialect = (typeof DIALECTS)[number]

/** True when a suite for this dialect must be skipped (Postgres without a test URL). */
export const unavailable = (dialect: TestDialect): boolean => dialect === 'postgres' && !PG_URL

export interface TestDatabase {
  readonly target: DatabaseTarget
  /** Drops the database (Postgres) or deletes its folder (SQLite). */
  drop(): Promise<void>
}

/** A brand-new, empty database of the given dialect that no other test touches. */
export const createTestDatabase = async (dialect: TestDialect): Promise<TestDatabase> => {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tgz-db-'))
    return {
      target: { dialect: 'sqlite', path: join(dir, 'test.sqlite') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    }
  }
  if (!PG_URL) throw new Error('TASKSGODZILLA_TEST_PG_URL is not set')
  const name = `tgz_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return {
    target: { dialect: 'postgres', url: url.toString(), poolSize: 5, preparedStatements: true },
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

/** A fresh database with the schema applied, plus its open handle. */
export const openMigratedDatabase = async (
  dialect: TestDialect,
): Promise<{ handle: DatabaseHandle; close(): Promise<void> }> => {
  const database = await createTestDatabase(dialect)
  const handle = openDatabase(database.target)
  await migrateToLatest(handle)
  return {
    handle,
    close: async () => {
      await handle.close()
      await database.drop()
    },
  }
}

/**
 * Runs one statement on a connection of its own (as another process or an administrator would),
 * against `url` or the server's admin database; returns its rows.
 */
export const queryOnce = async <T extends pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
  url = PG_URL,
): Promise<T[]> => {
  if (!url) throw new Error('TASKSGODZILLA_TEST_PG_URL is not set')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(text, values)).rows
  } finally {
    await client.end()
  }
}

const admin = async (statement: string): Promise<void> => {
  await queryOnce(statement)
}

/**
 * Resolves once another session of the database waits on a lock (10 s at most), to order two
 * transactions without a timer; `count` runs the given statement and returns its one number.
 */
export const untilLockWaiter = async (count: (statement: string) => Promise<number>): Promise<void> => {
  const statement = `SELECT count(*) AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`
  for (let waited = 0; waited < 10_000; waited += 20) {
    if ((await count(statement)) > 0) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('no session waited on a lock')
}
