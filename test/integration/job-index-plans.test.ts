import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type QueryResult,
  sql,
} from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import type { Database } from '../../src/adapters/storage/schema.js'
import { attemptBatchStatement } from '../../src/adapters/storage/job-attempt-batches.js'
import { createJobLedger, type JobLedger } from '../../src/adapters/storage/job-ledger.js'
import type { Repositories } from '../../src/app/ports.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import type { Job } from '../../src/domain/job.js'
import { seed } from '../../bench/seed.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'

// The queue's lookups of the jobs table go through partial indexes, each over the rows in one
// state (migration 2026-12-05T1200-jobs-partial-indexes). A planner uses one only when the
// statement says its rows are in that state: a status sent as a bound parameter hides it from
// Postgres's generic plan (the one a prepared statement keeps) and from SQLite's matching of the
// index's condition. Then the lookup scans every job the table holds, finished ones included.

const T0 = '2026-11-25T00:00:00.000Z'
const LATER = '2026-11-25T06:00:00.000Z'
const EARLIER = '2026-11-24T00:00:00.000Z'

/** A driver that runs nothing: it keeps each statement it is given and answers no rows. */
class RecordingDriver extends DummyDriver {
  constructor(private readonly sent: CompiledQuery[]) {
    super()
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    const sent = this.sent
    return {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        sent.push(query)
        return { rows: [] }
      },
      // eslint-disable-next-line require-yield
      async *streamQuery() {
        throw new Error('not streamed')
      },
    }
  }
}

/** The handle's database as a statement recorder: same dialect and compiler, nothing sent. */
const recorder = (handle: DatabaseHandle, sent: CompiledQuery[]): Kysely<Database> =>
  new Kysely<Database>({
    dialect:
      handle.dialect === 'sqlite'
        ? {
            createAdapter: () => new SqliteAdapter(),
            createDriver: () => new RecordingDriver(sent),
            createIntrospector: (db) => new SqliteIntrospector(db),
            createQueryCompiler: () => new SqliteQueryCompiler(),
          }
        : {
            createAdapter: () => new PostgresAdapter(),
            createDriver: () => new RecordingDriver(sent),
            createIntrospector: (db) => new PostgresIntrospector(db),
            createQueryCompiler: () => new PostgresQueryCompiler(),
          },
  })

/** A parameter written as a SQL literal, for `execute` of a prepared statement. */
const literal = (value: unknown): string => {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value))
    return literal(
      `{${value.map((item) => (item === null ? 'NULL' : `"${String(item).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`,
    )
  return `'${String(value).replace(/'/g, "''")}'`
}

/**
 * The plan of `statement` as text lines. Postgres: the generic plan, the one a prepared statement
 * is run with once the server stops planning it per execution, so the parameters' values cannot
 * have chosen the index. SQLite: the statement as prepared, parameters not yet bound.
 */
const planOfStatement = async (handle: DatabaseHandle, statement: CompiledQuery): Promise<string[]> => {
  if (handle.dialect === 'sqlite') {
    const { rows } = await handle.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${statement.sql}`, [...statement.parameters]),
    )
    return rows.map((row) => row.detail)
  }
  return handle.db.connection().execute(async (connection) => {
    const run = (text: string) => connection.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text))
    await run('set plan_cache_mode = force_generic_plan')
    await run(`prepare plan_probe as ${statement.sql}`)
    try {
      const args = statement.parameters.map(literal).join(', ')
      const { rows } = await run(`explain execute plan_probe${args ? `(${args})` : ''}`)
      return rows.map((row) => String(row['QUERY PLAN']))
    } finally {
      await run('deallocate plan_probe')
      await run('reset plan_cache_mode')
    }
  })
}

interface Subjects {
  readonly repos: Repositories
  readonly ledger: JobLedger
}

/** The plan of the one statement `call` sends. */
const planOf = async (
  handle: DatabaseHandle,
  call: (subjects: Subjects) => Promise<unknown>,
): Promise<string> => {
  const sent: CompiledQuery[] = []
  const db = recorder(handle, sent)
  // No rows come back: a caller that insists on one throws after its statement was recorded.
  await call({ repos: createRepositories(db), ledger: createJobLedger({ ...handle, db }) }).catch(
    () => undefined,
  )
  expect(sent).toHaveLength(1)
  return (await planOfStatement(handle, sent[0]!)).join('\n')
}

/** Reads `index` and never the whole jobs table. */
const expectIndex = (dialect: string, plan: string, ...indexes: string[]) => {
  for (const index of indexes) expect(plan).toMatch(new RegExp(`\\b${index}\\b`))
  if (dialect === 'sqlite') expect(plan).not.toMatch(/SCAN jobs\b(?! USING)/)
  else expect(plan).not.toMatch(/Seq Scan on jobs/)
}

/**
 * A table as a busy queue leaves it: mostly finished jobs (kept until retention prunes them), a
 * backlog of queued ones (half handed to the external queue), a few running, held, cancelled, failed.
 */
const seedJobs = async (handle: DatabaseHandle): Promise<void> => {
  const t0 = sql.raw(handle.dialect === 'postgres' ? `timestamptz '${T0}'` : `'${T0}'`)
  await seed(handle.db, handle.dialect, { projects: 10, runsPerProject: 10, events: 0 })
  const series = (n: number) =>
    sql.raw(
      `(with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n}) select i from s) as n`,
    )
  await sql`insert into step_runs (protocol_run_id, step_index, step_name, step_type, status, created_at, updated_at)
    select i, 0, 'work', 'work', 'running', ${T0}, ${T0} from ${series(100)}`.execute(handle.db)
  // Ids 1–20,000 finished; then 500 queued and not relayed, 500 queued and relayed, 50 started,
  // 20 held, 100 cancelled, 100 failed.
  const status = sql.raw(`case when i <= 20000 then 'finished' when i <= 21000 then 'queued'
    when i <= 21050 then 'started' when i <= 21070 then 'held' when i <= 21170 then 'cancelled' else 'failed' end`)
  await sql`insert into jobs (id, job_type, payload, status, queue, attempts, max_attempts, next_run_at, created_at,
      started_at, ended_at, project_id, protocol_run_id, step_run_id, locked_by, locked_until, relayed_at)
    select 'job-' || cast(i as text), 'execute_step_job', '{}', status, 'default', 1, 3, ${t0}, ${t0},
      case when status = 'queued' then null else ${t0} end,
      case when status in ('finished', 'failed', 'cancelled') then ${t0} else null end,
      ((i % 100) / 10) + 1, (i % 100) + 1, (i % 100) + 1,
      case when status = 'started' then 'worker' else null end,
      case when status = 'started' then ${t0} else null end,
      case when i > 20500 or i <= 20000 then ${t0} else null end
    from (select i, ${status} as status from ${series(21_270)}) as n`.execute(handle.db)
  await sql`analyze`.execute(handle.db)
}

const aJob = (id: string): Job => ({
  id,
  type: 'execute_step_job',
  payload: {},
  status: 'started',
  queue: 'default',
  attempts: 1,
  maxAttempts: 3,
  nextRunAt: T0,
  createdAt: T0,
  startedAt: T0,
  endedAt: null,
  result: null,
  error: null,
  meta: null,
  projectId: 1,
  protocolRunId: 5,
  stepRunId: 5,
})

describe.each(DIALECTS)('jobs lookup plans (%s)', (dialect) => {
  let db: Awaited<ReturnType<typeof openMigratedDatabase>>
  beforeAll(async () => {
    if (unavailable(dialect)) return
    db = await openMigratedDatabase(dialect)
    await seedJobs(db.handle)
  }, 60_000)
  afterAll(async () => db?.close())

  const cases: ReadonlyArray<readonly [string, (subjects: Subjects) => Promise<unknown>, string[]]> = [
    [
      'the embedded claim: due queued jobs',
      ({ ledger }) => ledger.claimDue({ token: 't', limit: 8, leaseUntil: LATER, queues: ['default'] }),
      ['jobs_due_idx'],
    ],
    [
      'the relay: queued jobs not yet relayed',
      ({ ledger }) => ledger.takeUnrelayed(100),
      ['jobs_unrelayed_idx'],
    ],
    [
      "the reconciler's suspects: relayed queued jobs and expired leases",
      ({ ledger }) => ledger.listRelayedSuspects(LATER, 500),
      ['jobs_due_idx', 'jobs_started_idx'],
    ],
    ['expired leases', ({ ledger }) => ledger.listExpired(100), ['jobs_started_idx']],
    ['held jobs whose run resumed', ({ ledger }) => ledger.releaseOrphanHeld(), ['jobs_held_idx']],
    ["a run's cancelled jobs", ({ ledger }) => ledger.listIdsForRun(5, ['cancelled']), ['jobs_run_idx']],
    // Most ended jobs are younger than the retention's cutoff: the pass deletes the few that are not.
    ['retention', ({ ledger }) => ledger.prune(EARLIER), ['jobs_ended_idx']],
    [
      "the precheck's running duplicates",
      ({ repos }) => repos.jobs.precheckFacts(aJob('x')),
      ['jobs_started_idx'],
    ],
    [
      "a step's running jobs",
      ({ repos }) => repos.jobs.listStartedForStep(5, 'execute_step_job', 'x'),
      ['jobs_started_idx'],
    ],
    ["a run's cancellation", ({ repos }) => repos.jobs.cancelForRun(5), ['jobs_run_idx']],
    ["a run's resume", ({ repos }) => repos.jobs.releaseHeld(5), ['jobs_held_idx']],
    ['the listing of all jobs', ({ repos }) => repos.jobs.list({ limit: 50 }), ['jobs_created_idx']],
    // Its own index, or the newest-first walk of all jobs while the project holds many of them.
    [
      "a project's jobs",
      ({ repos }) => repos.jobs.list({ projectId: 3, limit: 50 }),
      ['jobs_(?:project|created)_idx'],
    ],
  ]

  it.skipIf(unavailable(dialect)).each(cases)('%s', async (_name, call, indexes) => {
    expectIndex(dialect, await planOf(db.handle, call), ...indexes)
  })

  it
    .skipIf(unavailable(dialect))
    .each(['queued', 'delayed', 'started', 'held', 'finished', 'failed', 'cancelled'] as const)(
    'the listing of %s jobs reads an index',
    async (status) => {
      const plan = await planOf(db.handle, ({ repos }) => repos.jobs.list({ status, limit: 50 }))
      expectIndex(dialect, plan)
    },
  )

  const prechecked = [['x'], [5], [5], ['execute_step_job']]
  const begun = [['y'], [1], [3], ['token'], [LATER]]
  const finished = [['z'], ['token'], ['null']]
  it.skipIf(dialect !== 'postgres' || unavailable(dialect)).each([
    ['alone', attemptBatchStatement({ begins: false, finishes: false, prechecks: true }), prechecked],
    [
      'beside begins',
      attemptBatchStatement({ begins: true, finishes: false, prechecks: true }),
      [T0, ...begun, ...prechecked],
    ],
    [
      'beside settlements',
      attemptBatchStatement({ begins: false, finishes: true, prechecks: true }),
      [T0, ...finished, ...prechecked],
    ],
    [
      'beside begins and settlements',
      attemptBatchStatement({ begins: true, finishes: true, prechecks: true }),
      [T0, ...begun, ...finished, ...prechecked],
    ],
  ])(
    "the batched bookkeeping's precheck counts running duplicates through their index (%s)",
    async (_mix, text, parameters) => {
      const plan = await planOfStatement(db.handle, CompiledQuery.raw(text, parameters))
      expectIndex(dialect, plan.join('\n'), 'jobs_started_idx')
    },
  )
})
