import { sql, type Kysely } from 'kysely'
import type { Dialect } from '../src/adapters/storage/database.js'
import type { Database } from '../src/adapters/storage/schema.js'

export interface SeedSize {
  readonly projects: number
  readonly runsPerProject: number
  readonly events: number
}

/**
 * Fills an empty, migrated database in bulk with generated rows (one statement per table), so a
 * million events take seconds rather than minutes.
 */
export const seed = async (db: Kysely<Database>, dialect: Dialect, size: SeedSize): Promise<void> => {
  const runs = size.projects * size.runsPerProject
  const ts = `'2026-11-25T00:00:00.000Z'`
  const series = (n: number) =>
    dialect === 'postgres'
      ? sql.raw(`(select generate_series(1, ${n}) as i) as n`)
      : sql.raw(
          `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s) as n`,
        )
  const text = dialect === 'postgres' ? 'text' : 'text'
  await sql`insert into projects (name, git_url, base_branch, created_at, updated_at)
    select 'bench-' || cast(i as ${sql.raw(text)}), '/srv/repos/bench', 'main', ${sql.raw(ts)}, ${sql.raw(ts)}
    from ${series(size.projects)}`.execute(db)
  await sql`insert into protocol_runs (project_id, protocol_name, status, base_branch, branch_name, created_at, updated_at)
    select ((i - 1) / ${sql.raw(String(size.runsPerProject))}) + 1, 'run-' || cast(i as ${sql.raw(text)}), 'running', 'main',
           'run-' || cast(i as ${sql.raw(text)}), ${sql.raw(ts)}, ${sql.raw(ts)}
    from ${series(runs)}`.execute(db)
  await sql`insert into events (project_id, protocol_run_id, event_type, message, created_at)
    select ((((i - 1) % ${sql.raw(String(runs))})) / ${sql.raw(String(size.runsPerProject))}) + 1,
           ((i - 1) % ${sql.raw(String(runs))}) + 1, 'bench', 'Generated event ' || cast(i as ${sql.raw(text)}), ${sql.raw(ts)}
    from ${series(size.events)}`.execute(db)
  if (dialect === 'postgres') await sql`analyze`.execute(db)
  else await sql`analyze`.execute(db)
}
