import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { Dialect } from '../src/adapters/storage/database.js'
import type { Database } from '../src/adapters/storage/schema.js'

/** The bearer token the bench server runs with, and the token of every tenth project. */
export const BENCH_API_TOKEN = 'bench-api-token'
export const BENCH_PROJECT_TOKEN = 'bench-project-token'

/** A planned run's template_config: a five-step spec and its validation state, as planning stores it. */
const TEMPLATE_CONFIG = JSON.stringify({
  protocol_spec: {
    steps: Array.from({ length: 5 }, (_, i) => ({
      id: `step-${i + 1}`,
      name: `0${i + 1}-work-item-${i + 1}`,
      engine_id: 'codex',
      model: 'gpt-5.1-codex',
      prompt_ref: `.protocols/run/0${i + 1}-work-item-${i + 1}.md`,
      outputs: { protocol: `.protocols/run/0${i + 1}.md`, aux: { notes: 'notes.md' } },
      policies: [{ behavior: 'loop', max_iterations: 2, trigger_agent_id: 'qa' }],
      qa: { policy: 'full', engine_id: 'codex', model: 'gpt-5.1-codex-mini' },
    })),
  },
  spec_meta: { status: 'valid', errors: [], validated_at: '2026-11-25T00:00:00.000Z' },
})

export interface SeedSize {
  readonly projects: number
  readonly runsPerProject: number
  readonly events: number
  /** The runs the events go round, `count` of them from run `first` (default: every run). */
  readonly eventRuns?: { readonly first: number; readonly count: number }
}

/**
 * Fills an empty, migrated database in bulk with generated rows (one statement per table), so a
 * million events take seconds rather than minutes.
 */
export const seed = async (db: Kysely<Database>, dialect: Dialect, size: SeedSize): Promise<void> => {
  const runs = size.projects * size.runsPerProject
  const { first, count } = size.eventRuns ?? { first: 1, count: runs }
  const run = `(${first} + (i - 1) % ${count})`
  const ts = `'2026-11-25T00:00:00.000Z'`
  const series = (n: number) =>
    dialect === 'postgres'
      ? sql.raw(`(select generate_series(1, ${n}) as i) as n`)
      : sql.raw(
          `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s) as n`,
        )
  const text = 'text'
  const json = dialect === 'postgres' ? 'jsonb' : 'text'
  const tokenHash = createHash('sha256').update(BENCH_PROJECT_TOKEN, 'utf8').digest('hex')
  await sql`insert into projects (name, git_url, base_branch, api_token_hash, created_at, updated_at)
    select 'bench-' || cast(i as ${sql.raw(text)}), '/srv/repos/bench', 'main',
           case when i % 10 = 0 then ${tokenHash} else null end, ${sql.raw(ts)}, ${sql.raw(ts)}
    from ${series(size.projects)}`.execute(db)
  await sql`insert into protocol_runs (project_id, protocol_name, status, base_branch, branch_name, template_config, created_at, updated_at)
    select ((i - 1) / ${sql.raw(String(size.runsPerProject))}) + 1, 'run-' || cast(i as ${sql.raw(text)}), 'running', 'main',
           'run-' || cast(i as ${sql.raw(text)}), cast(${TEMPLATE_CONFIG} as ${sql.raw(json)}), ${sql.raw(ts)}, ${sql.raw(ts)}
    from ${series(runs)}`.execute(db)
  await sql`insert into events (project_id, protocol_run_id, event_type, message, created_at)
    select ((${sql.raw(run)} - 1) / ${sql.raw(String(size.runsPerProject))}) + 1, ${sql.raw(run)}, 'bench', 'Generated event ' || cast(i as ${sql.raw(text)}), ${sql.raw(ts)}
    from ${series(size.events)}`.execute(db)
  if (dialect === 'postgres') await sql`analyze`.execute(db)
  else await sql`analyze`.execute(db)
}
