import type SqliteDatabase from 'better-sqlite3'
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely'
import { isArrayRowsStatement } from './array-rows.js'

/** Distinct statements kept prepared; `in (...)` lists of varying length make the set open-ended. */
const STATEMENT_CACHE_SIZE = 512

/**
 * The database as Kysely's SQLite driver sees it, with each statement prepared once per SQL text:
 * the driver prepares anew on every query, which costs as much as running a point read. Reuse is
 * safe because `all`/`run` finish synchronously; `iterate` (streaming, which keeps a statement
 * busy until the stream ends) always prepares its own. A statement marked for array rows
 * (array-rows.ts) returns each row as an array.
 */
export const withStatementCache = (sqlite: SqliteDatabase.Database): KyselySqliteDatabase => {
  const statements = new Map<string, SqliteStatement>()
  const prepare = (sql: string): SqliteStatement => {
    const known = statements.get(sql)
    if (known !== undefined) {
      // Re-inserted so the map's order is least recently used first.
      statements.delete(sql)
      statements.set(sql, known)
      return known
    }
    const prepared = sqlite.prepare(sql)
    if (prepared.reader && isArrayRowsStatement(sql)) prepared.raw(true)
    const statement: SqliteStatement = {
      reader: prepared.reader,
      all: (parameters) => prepared.all(parameters),
      run: (parameters) => prepared.run(parameters),
      iterate: (parameters) => sqlite.prepare(sql).iterate(parameters) as IterableIterator<unknown>,
    }
    if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!)
    statements.set(sql, statement)
    return statement
  }
  return { prepare, close: () => sqlite.close() }
}
