import type SqliteDatabase from 'better-sqlite3'
import { sql, type Kysely } from 'kysely'
import type { ReadScope, ScopeVersions } from '../../app/ports.js'
import { belowCommittedHorizon } from './event-positions.js'
import type { Database } from './schema.js'

/**
 * SQLite: the scope's counters (migrations `read-scopes`, `run-event-scopes`), read straight from
 * the connection. A run scope adds its project's counter (the token that authorizes it lives
 * there), a run's events scope its run's and project's, a project scope its run list's. While one of
 * our transactions is open the connection would answer for that transaction's snapshot, possibly
 * with its uncommitted writes, so no token is given then.
 */
export const sqliteScopeVersions = (sqlite: SqliteDatabase.Database): ScopeVersions => {
  // Prepared on first use: the database is opened before it is migrated.
  let statements: Record<ReadScope['kind'], SqliteDatabase.Statement> | undefined
  const counter = (kind: string) =>
    `coalesce((select version from read_scopes where kind = '${kind}' and id = @id), 0)`
  const runVersion = `${counter('run')} || '.' ||
    coalesce((select s.version from protocol_runs r
              join read_scopes s on s.kind = 'project' and s.id = r.project_id
              where r.id = @id), 0)`
  const prepare = () => ({
    run: sqlite.prepare(`select ${runVersion}`).pluck(),
    events: sqlite.prepare(`select ${runVersion} || '.' || ${counter('events')}`).pluck(),
    project: sqlite.prepare(`select ${counter('project')} || '.' || ${counter('runs')}`).pluck(),
  })
  return async (scopes) => {
    if (sqlite.inTransaction) return scopes.map(() => undefined)
    statements ??= prepare()
    const current = statements
    return scopes.map(({ kind, id }) => current[kind].get({ id }) as string)
  }
}

/**
 * Postgres: a scope's token is the newest transaction stamp among its rows, given only when that
 * transaction is below the commit horizon of the same statement's snapshot. Then every transaction
 * that could still change the scope has a larger id and will stamp a row with it, so the token
 * moves; and every event of an `events` scope is below the horizon, so an event listing shows all
 * of them.
 * A scope with a newer stamp gets no token: its listings may still hide events a running
 * transaction precedes (event-positions.ts), and the next read computes again.
 */
export const postgresScopeVersions =
  (db: Kysely<Database>): ScopeVersions =>
  async (scopes) => {
    const runs = scopes.filter((s) => s.kind !== 'project')
    const projectIds = scopes.filter((s) => s.kind === 'project').map((s) => s.id)
    // A run's events are read only for an `events` scope (the CASE runs its subquery only then).
    const { rows } = await sql<{ kind: ReadScope['kind']; id: number; version: string | null }>`
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
    `.execute(db)
    const found = new Map(rows.map((row) => [`${row.kind}:${row.id}`, row.version ?? undefined]))
    return scopes.map(({ kind, id }) => found.get(`${kind}:${id}`))
  }
