import { sql, type Migration } from 'kysely'
import type { Dialect } from '../database.js'
import type { AnyDb } from './column-types.js'
import { createScopeTriggers, dropScopeTriggers, type ScopeBumps } from './scope-triggers.js'

/** Tables SQLite has and Postgres does not: the scope counters (Postgres stamps rows instead). */
export const SQLITE_ONLY_TABLES = ['read_scopes']
/** The run list's version on Postgres is the newest stamp of a project's runs. */
export const READ_SCOPE_POSTGRES_INDEXES = ['protocol_runs_project_txid_idx']

const STAMPED = ['projects', 'protocol_runs', 'step_runs'] as const

/**
 * Versions per read scope, so that one run's writes do not invalidate every other run's
 * memoized reads (docs/decisions.md, "Read scopes"). A run scope is the run's row, its steps and
 * events and its project's row (its events a scope apart since `run-event-scopes`, which replaces
 * the events triggers); a project scope is the project's row and its runs' rows.
 *
 * SQLite (one writer at a time): `read_scopes` counters, bumped by triggers on every write, so no
 * write path and no other process can forget them. Postgres: a counter row would be a lock every
 * writer of a run or project queues on until commit, so rows carry the id of the transaction that
 * last wrote them instead (`txid`, as events already do), set by triggers; a scope's version is
 * the newest stamp among its rows, usable only below the commit horizon. A deletion stamps the
 * parent row (deletions of runs, steps and events are not part of normal operation).
 */
export const readScopes = (dialect: Dialect): Migration => ({
  async up(db: AnyDb) {
    for (const table of STAMPED)
      await db.schema
        .alterTable(table)
        .addColumn('txid', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute()
    if (dialect === 'postgres') await postgresUp(db)
    else await sqliteUp(db)
  },
  async down(db: AnyDb) {
    if (dialect === 'postgres') await postgresDown(db)
    else await sqliteDown(db)
    for (const table of STAMPED) await db.schema.alterTable(table).dropColumn('txid').execute()
  },
})

/** SQLite: which counters a write to each table moves. */
const SQLITE_BUMPS: Record<string, ScopeBumps> = {
  projects: [(row) => ['project', `${row}.id`]],
  protocol_runs: [(row) => ['run', `${row}.id`], (row) => ['runs', `${row}.project_id`]],
  step_runs: [(row) => ['run', `${row}.protocol_run_id`]],
  events: [(row) => ['run', `${row}.protocol_run_id`]],
}

const sqliteUp = async (db: AnyDb) => {
  await sql`create table if not exists read_scopes (
    kind text not null, id integer not null, version integer not null, primary key (kind, id)
  ) without rowid`.execute(db)
  for (const [table, bumps] of Object.entries(SQLITE_BUMPS)) await createScopeTriggers(db, table, bumps)
}

const sqliteDown = async (db: AnyDb) => {
  for (const table of Object.keys(SQLITE_BUMPS)) await dropScopeTriggers(db, table)
  await sql`drop table if exists read_scopes`.execute(db)
}

/** Deleting a child (or moving it to another parent) stamps the parent it left. */
const POSTGRES_PARENTS: ReadonlyArray<readonly [string, string, string]> = [
  ['step_runs', 'protocol_run_id', 'protocol_runs'],
  ['events', 'protocol_run_id', 'protocol_runs'],
  ['protocol_runs', 'project_id', 'projects'],
]

const postgresUp = async (db: AnyDb) => {
  await sql`create or replace function read_scope_stamp() returns trigger language plpgsql as $$
    begin
      new.txid := pg_current_xact_id()::text::bigint;
      return new;
    end $$`.execute(db)
  for (const table of STAMPED)
    await sql
      .raw(
        `create trigger ${table}_read_scope_stamp before insert or update on ${table}
         for each row execute function read_scope_stamp()`,
      )
      .execute(db)
  for (const [child, column, parent] of POSTGRES_PARENTS) {
    await sql
      .raw(
        `create or replace function ${child}_read_scope_leave() returns trigger language plpgsql as $$
        begin
          if tg_op = 'DELETE' or old.${column} is distinct from new.${column} then
            update ${parent} set txid = pg_current_xact_id()::text::bigint where id = old.${column};
          end if;
          return null;
        end $$`,
      )
      .execute(db)
    await sql
      .raw(
        `create trigger ${child}_read_scope_leave after delete or update of ${column} on ${child}
         for each row execute function ${child}_read_scope_leave()`,
      )
      .execute(db)
  }
  await db.schema
    .createIndex('protocol_runs_project_txid_idx')
    .ifNotExists()
    .on('protocol_runs')
    .columns(['project_id', 'txid'])
    .execute()
}

const postgresDown = async (db: AnyDb) => {
  await db.schema.dropIndex('protocol_runs_project_txid_idx').ifExists().execute()
  for (const [child] of POSTGRES_PARENTS) {
    await sql.raw(`drop trigger if exists ${child}_read_scope_leave on ${child}`).execute(db)
    await sql.raw(`drop function if exists ${child}_read_scope_leave()`).execute(db)
  }
  for (const table of STAMPED)
    await sql.raw(`drop trigger if exists ${table}_read_scope_stamp on ${table}`).execute(db)
  await sql`drop function if exists read_scope_stamp()`.execute(db)
}
