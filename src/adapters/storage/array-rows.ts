import type { Compilable, Kysely } from 'kysely'

/**
 * Marks a statement whose rows the drivers return as arrays of column values, in the order of
 * its select list, instead of objects keyed by column name. better-sqlite3 builds each row object
 * property by property in C++, which costs as much as stepping through the rows themselves (a page
 * of 100 events: ~170 µs as arrays, ~350 µs as objects); pg builds its objects from field
 * descriptions in JavaScript. A listing maps the arrays straight to its domain objects.
 *
 * The mark is a SQL comment, so a driver that does not know it (the Postgres pool without
 * prepared statements) runs the same statement and returns objects; `selectArrays` then takes
 * their values, which pg keeps in select-list order.
 */
export const ARRAY_ROWS_MARK = '/* array rows */ '

export const isArrayRowsStatement = (sql: string): boolean => sql.startsWith(ARRAY_ROWS_MARK)

/** Runs `query` and returns each row as its column values, in the order the query selects them. */
export const selectArrays = async <DB>(
  db: Kysely<DB>,
  query: Compilable<unknown>,
): Promise<ReadonlyArray<ReadonlyArray<unknown>>> => {
  const compiled = query.compile()
  const { rows } = await db.executeQuery({ ...compiled, sql: ARRAY_ROWS_MARK + compiled.sql })
  return rows.map((row) => (Array.isArray(row) ? row : Object.values(row as object)))
}
