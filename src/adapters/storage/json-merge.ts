import { sql, type Kysely, type RawBuilder } from 'kysely'
import { isPostgres } from './dialect.js'
import type { JsonObject, JsonValue } from '../../domain/json.js'
import { encodeJson } from './columns.js'
import type { Database } from './schema.js'

/**
 * The SQL that writes `changes` into the `runtime_state` column of the row being updated, so a
 * concurrent writer's other keys survive (rewriting the whole value from a stale copy lost them). Each key replaces the stored one and a null
 * removes it; a key in `mergeKeys` lays its object's entries over the stored object instead.
 * The same semantics on both dialects: SQLite `json_set`/`json_remove`/`json_patch` on a path per
 * key, Postgres jsonb `-` and `||`.
 */
export const mergeExpression = (
  db: Kysely<Database>,
  changes: JsonObject,
  mergeKeys: readonly string[],
): RawBuilder<string> => {
  const merged = (key: string, value: JsonValue) => mergeKeys.includes(key) && isMap(value)
  return isPostgres(db) ? postgresMerge(changes, merged) : sqliteMerge(changes, merged)
}

type MergedTest = (key: string, value: JsonValue) => boolean

const sqliteMerge = (changes: JsonObject, merged: MergedTest): RawBuilder<string> => {
  let expression = sql<string>`coalesce(runtime_state, '{}')`
  for (const [key, value] of Object.entries(changes)) {
    const path = `$."${key.replaceAll('"', '""')}"`
    if (value === null) expression = sql<string>`json_remove(${expression}, ${path})`
    else if (merged(key, value))
      expression = sql<string>`json_set(${expression}, ${path}, json_patch(coalesce(json_extract(runtime_state, ${path}), '{}'), ${encodeJson(value)}))`
    else expression = sql<string>`json_set(${expression}, ${path}, json(${encodeJson(value)}))`
  }
  return expression
}

const postgresMerge = (changes: JsonObject, merged: MergedTest): RawBuilder<string> => {
  const removed = Object.keys(changes).filter((key) => changes[key] === null)
  const pairs = Object.entries(changes)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => sql`${key}::text, ${pgValue(key, value, merged(key, value))}`)
  const built = pairs.length > 0 ? sql`jsonb_build_object(${sql.join(pairs)})` : sql`'{}'::jsonb`
  return sql<string>`(coalesce(runtime_state, '{}'::jsonb) - ${removed}::text[]) || ${built}`
}

const pgValue = (key: string, value: JsonValue, merged: boolean) => {
  const json = sql`${encodeJson(value)}::jsonb`
  if (!merged) return json
  return sql`(case when jsonb_typeof(runtime_state -> ${key}::text) = 'object' then runtime_state -> ${key}::text else '{}'::jsonb end) || ${json}`
}

const isMap = (value: JsonValue): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
