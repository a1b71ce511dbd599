import type SqliteDatabase from 'better-sqlite3'
import { sql, type Kysely } from 'kysely'
import type { ReadScope, ScopeVersions } from '../../app/ports.js'
import { belowCommittedHorizon } from './event-positions.js'
import type { Database } from './schema.js'

/**
 * `data_version` moves when another connection (another process) commits; `total_changes()`
 * counts every row this connection has written, committed or not, and never goes down. Read
 * straight from the connection, not through Kysely's queue. While one of our transactions is
 * open the pragma answers for that transaction's snapshot, which may predate another process's
 * commit, so no token is given then.
 */
const sqliteWholeVersion = (sqlite: SqliteDatabase.Database): (() => string | undefined) => {
  // Two statements: the pragma's table-valued form costs twice the plain pragma.
  const otherCommits = sqlite.prepare('pragma data_version').pluck()
  const ownChanges = sqlite.prepare('select total_changes()').pluck()
  return () =>
    sqlite.inTransaction ? undefined : `${otherCommits.get() as number}:${ownChanges.get() as number}`
}

/**
 * SQLite: the scope's counters (migrations `read-scopes`, `run-event-scopes`), read straight from
 * the connection. A run scope adds its project's counter (the token that authorizes it lives
 * there), a run's events scope its run's and project's, a project scope its run list's; `all` is
 * the data version. While one of our transactions is open the connection would answer for that
 * transaction's snapshot, possibly with its uncommitted writes, so no token is given then.
 */
export const sqliteScopeVersions = (sqlite: SqliteDatabase.Database): ScopeVersions => {
  // Prepared on first use: the database is opened before it is migrated.
  let readers: Record<ReadScope['kind'], (id: number) => string | undefined> | undefined
  const counter = (kind: string) =>
    `coalesce((select version from read_scopes where kind = '${kind}' and id = @id), 0)`
  const runVersion = `${counter('run')} || '.' ||
    coalesce((select s.version from protocol_runs r
              join read_scopes s on s.kind = 'project' and s.id = r.project_id
              where r.id = @id), 0)`
  const scoped = (text: string) => {
    const statement = sqlite.prepare(text).pluck()
    return (id: number) => statement.get({ id }) as string
  }
  const prepare = () => {
    const whole = sqliteWholeVersion(sqlite)
    return {
      run: scoped(`select ${runVersion}`),
      events: scoped(`select ${runVersion} || '.' || ${counter('events')}`),
      project: scoped(`select ${counter('project')} || '.' || ${counter('runs')}`),
      all: () => whole(),
    }
  }
  return async (scopes) => {
    if (sqlite.inTransaction) return scopes.map(() => undefined)
    readers ??= prepare()
    const current = readers
    return scopes.map(({ kind, id }) => current[kind](id))
  }
}

/**
 * The current snapshot (xmin:xmax:in-progress xids) decides exactly which commits a new query
 * sees, so two equal snapshots see the same data, and any commit or new writer changes it.
 */
const SNAPSHOT = sql<string>`pg_current_snapshot()::text`

/**
 * Postgres: a scope's token is the newest transaction stamp among its rows, given only when that
 * transaction is below the commit horizon of the same statement's snapshot. Then every transaction
 * that could still change the scope has a larger id and will stamp a row with it, so the token
 * moves; and every event of an `events` scope is below the horizon, so an event listing shows all
 * of them. A scope with a newer stamp gets no token: its listings may still hide events a running
 * transaction precedes (event-positions.ts), and the next read computes again. `all` is the
 * snapshot (SNAPSHOT above), read in the same statement as the other scopes asked with it.
 */
export const postgresScopeVersions =
  (db: Kysely<Database>): ScopeVersions =>
  async (scopes) => {
    const runs = scopes.filter((s) => s.kind === 'run' || s.kind === 'events')
    const projectIds = scopes.filter((s) => s.kind === 'project').map((s) => s.id)
    const all = scopes.some((s) => s.kind === 'all')
    const { rows } =
      runs.length === 0 && projectIds.length === 0
        ? await sql<VersionRow>`select 'all' as kind, 0 as id, ${SNAPSHOT} as version`.execute(db)
        : await stampsQuery(runs, projectIds, all).execute(db)
    const found = new Map(rows.map((row) => [`${row.kind}:${row.id}`, row.version ?? undefined]))
    return scopes.map(({ kind, id }) => found.get(`${kind}:${kind === 'all' ? 0 : id}`))
  }

interface VersionRow {
  readonly kind: ReadScope['kind']
  readonly id: number
  readonly version: string | null
}

// A run's events are read only for an `events` scope (the CASE runs its subquery only then).
const stampsQuery = (
  runs: readonly ReadScope[],
  projectIds: readonly number[],
  all: boolean,
) => sql<VersionRow>`
  with stamps as (
    select k.kind, r.id, greatest(
      r.txid,
      p.txid,
      (select max(s.txid) from step_runs s where s.protocol_run_id = r.id),
      case when k.kind = 'events' then (select max(e.txid) from events e where e.protocol_run_id = r.id) end
    ) as stamp
    from unnest(${runs.map((s) => s.kind)}::text[], ${runs.map((s) => s.id)}::int[]) as k(kind, id)
    join protocol_runs r on r.id = k.id
    join projects p on p.id = r.project_id
    union all
    select 'project', p.id, greatest(
      p.txid,
      (select max(r.txid) from protocol_runs r where r.project_id = p.id)
    )
    from projects p
    where p.id = any(${projectIds}::int[])
  )
  select kind, id, case when ${belowCommittedHorizon(sql.ref('stamp'))} then stamp::text end as version
  from stamps
  union all
  select 'all', 0, ${SNAPSHOT} where ${all}
`
