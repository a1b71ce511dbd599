import { PostgresAdapter, type Kysely } from 'kysely'
import type { Database } from './schema.js'

/**
 * True when `db` (a database or a transaction bound to one) speaks Postgres. The dialect is not
 * part of Kysely's public surface; the executor's adapter is the one reliable tell a repository
 * bound to a transaction has.
 */
export const isPostgres = (db: Kysely<Database>): boolean =>
  db.getExecutor().adapter instanceof PostgresAdapter
