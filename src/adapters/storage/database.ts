import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { DatabaseTarget } from '../../config.js'
import type { Database } from './schema.js'
import { withStatementCache } from './sqlite-statements.js'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  /** Closes every connection; the handle is unusable afterwards. */
  close(): Promise<void>
}

const SQLITE_BUSY_TIMEOUT_MS = 5_000
const PG_JSON_OIDS = new Set([114, 3802])
const PG_INT8_OID = 20

/** Opens the configured database with the settings every process must share. */
export const openDatabase = (target: DatabaseTarget): DatabaseHandle =>
  target.dialect === 'sqlite' ? openSqlite(target.path) : openPostgres(target.url, target.poolSize)

const openSqlite = (path: string): DatabaseHandle => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SqliteDatabase(path, { timeout: SQLITE_BUSY_TIMEOUT_MS })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return { db, dialect: 'sqlite', close: () => db.destroy() }
}

/**
 * JSON columns come back as text (so both dialects share one decoder and `{}` stays `{}`), and
 * 64-bit counts as numbers; every other type keeps pg's default parser.
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (PG_JSON_OIDS.has(oid)) return (value: string) => value
    if (oid === PG_INT8_OID) return (value: string) => Number(value)
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')
  }) as typeof pg.types.getTypeParser,
}

const openPostgres = (url: string, poolSize: number): DatabaseHandle => {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes })
  // An idle client whose server connection dies (a Postgres restart, a terminated backend) is
  // dropped by the pool, which then emits 'error'; unhandled, that would crash the process. The
  // next query opens a fresh connection, and a query in flight still rejects to its caller.
  pool.on('error', () => undefined)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, dialect: 'postgres', close: () => db.destroy() }
}
