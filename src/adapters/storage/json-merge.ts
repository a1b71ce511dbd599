import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely'
import type { JsonObject, JsonValue } from '../../domain/json.js'
import { encodeJson } from './columns.js'
import type { Database } from './schema.js'

/**
 * The SQL that merges `changes` into the `runtime_state` column of the row being updated, so a
 * concurrent writer's keys survive (W-38). Top-level nulls remove keys; objects merge one level.
 * SQLite: RFC 7396 `json_patch`, which does exactly that for the shapes we store. Postgres: jsonb
 * `-` and `||`, with each object value laid over the object already there.
 */
export const mergeExpression = (db: Kysely<Database>, changes: JsonObject): RawBuilder<string> => {
  if (!isPostgres(db)) return sql<string>`json_patch(coalesce(runtime_state, '{}'), ${encodeJson(changes)})`
  const removed = Object.keys(changes).filter((key) => changes[key] === null)
  const pairs = Object.entries(changes)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => sql`${key}::text, ${pgValue(key, value)}`)
  const built = pairs.length > 0 ? sql`jsonb_build_object(${sql.join(pairs)})` : sql`'{}'::jsonb`
  return sql<string>`(coalesce(runtime_state, '{}'::jsonb) - ${removed}::text[]) || ${built}`
}

const pgValue = (key: string, value: JsonValue) => {
  const json = sql`${encodeJson(value)}::jsonb`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return json
  return sql`(case when jsonb_typeof(runtime_state -> ${key}::text) = 'object' then runtime_state -> ${key}::text else '{}'::jsonb end) || ${json}`
}

// The dialect is not part of Kysely's public surface; the executor's adapter is the one reliable
// tell a repository bound to a transaction has.
const isPostgres = (db: Kysely<Database>): boolean => db.getExecutor().adapter instanceof PostgresAdapter
