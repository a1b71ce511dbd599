import { sql } from 'kysely'
import type { AnyDb } from './column-types.js'

/**
 * SQLite's read-scope triggers, shared by the migrations that create or replace them: every write
 * to a table moves the `read_scopes` counters its rows name (docs/decisions.md, "Read scopes").
 */

/** Which read-scope counters a write moves, per changed row (`row` is NEW or OLD). */
export type ScopeBumps = ReadonlyArray<(row: string) => readonly [string, string]>

const OPERATIONS = [
  ['insert', ['new']],
  ['update', ['new', 'old']],
  ['delete', ['old']],
] as const

const bump = (kind: string, id: string): string =>
  `insert into read_scopes (kind, id, version) select '${kind}', ${id}, 1 where ${id} is not null
     on conflict (kind, id) do update set version = version + 1;`

/** SQLite: the triggers by which every write to `table` moves the counters `bumps` names. */
export const createScopeTriggers = async (db: AnyDb, table: string, bumps: ScopeBumps): Promise<void> => {
  for (const [operation, rows] of OPERATIONS) {
    // An update bumps the old row's scopes too: a row moved to another parent changes both.
    const body = rows.flatMap((row) => bumps.map((scopeOf) => bump(...scopeOf(row)))).join('\n')
    await sql
      .raw(
        `create trigger if not exists ${table}_read_scope_${operation} after ${operation} on ${table}
           begin ${body} end`,
      )
      .execute(db)
  }
}

/** SQLite: drops the triggers createScopeTriggers made on `table`. */
export const dropScopeTriggers = async (db: AnyDb, table: string): Promise<void> => {
  for (const [operation] of OPERATIONS)
    await sql.raw(`drop trigger if exists ${table}_read_scope_${operation}`).execute(db)
}
