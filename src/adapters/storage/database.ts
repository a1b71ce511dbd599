import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type Driver } from 'kysely'
import pg from 'pg'
import type { ScopeVersions } from '../../app/ports.js'
import type { DatabaseTarget } from '../../config.js'
import type { Database } from './schema.js'
import { withPreparedStatements } from './postgres-statements.js'
import { withStatementCache } from './sqlite-statements.js'
import { postgresScopeVersions, sqliteScopeVersions } from './scope-versions.js'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  /** See the port: moves only with commits to the scopes asked about. */
  readonly scopeVersions: ScopeVersions
  /** Closes every connection; the handle is unusable afterwards. */
  close(): Promise<void>
}

const SQLITE_BUSY_TIMEOUT_MS = 5_000
const PG_JSON_OIDS = new Set([114, 3802])
const PG_INT8_OID = 20

/** Opens the configured database with the settings every process must share. */
export const openDatabase = (target: DatabaseTarget): DatabaseHandle =>
  target.dialect === 'sqlite' ? openSqlite(target.path) : openPostgres(target)

const openSqlite = (path: string): DatabaseHandle => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new SqliteDatabase(path, { timeout: SQLITE_BUSY_TIMEOUT_MS })
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('synchronous = NORMAL')
  const db = new Kysely<Database>({
    dialect: new WriteLockingSqliteDialect({ database: withStatementCache(sqlite) }),
  })
  return {
    db,
    dialect: 'sqlite',
    scopeVersions: sqliteScopeVersions(sqlite),
    close: () => db.destroy(),
  }
}

/**
 * Transactions take the write lock when they begin (`begin immediate`). A deferred one reads
 * from a snapshot and asks for the lock at its first write; if another process (a worker on
 * the same file) committed in between, SQLite refuses at once with SQLITE_BUSY, without waiting
 * out the busy timeout, and the whole unit of work fails. Taken up front, the lock is waited
 * for like any other, and readers outside transactions are not held up in WAL mode.
 */
class WriteLockingSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver()
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'))
    }
    return driver
  }
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

const openPostgres = ({
  url,
  poolSize,
  preparedStatements,
}: Extract<DatabaseTarget, { dialect: 'postgres' }>): DatabaseHandle => {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes })
  // An idle client whose server connection dies (a Postgres restart, a terminated backend) is
  // dropped by the pool, which then emits 'error'; unhandled, that would crash the process. The
  // next query opens a fresh connection, and a query in flight still rejects to its caller.
  pool.on('error', () => undefined)
  // A client in use (inside a transaction, or with a query in flight) emits 'error' itself when its
  // connection dies, and the pool listens only while it is idle: unhandled, a Postgres restart would
  // end every busy process. Its caller already gets the error; the pool drops the client on release.
  pool.on('connect', (client) => client.on('error', () => undefined))
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: preparedStatements ? withPreparedStatements(pool) : pool }),
  })
  return {
    db,
    dialect: 'postgres',
    scopeVersions: postgresScopeVersions(db),
    close: () => db.destroy(),
  }
}
