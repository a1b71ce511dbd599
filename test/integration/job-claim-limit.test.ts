import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createJobLedger } from '../../src/adapters/storage/job-ledger.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedProjectJob } from '../support/fixtures.js'

// claimDue must never claim more than `limit` jobs, whatever plan Postgres picks. With the due
// rows as an `id in (subquery … for update skip locked)`, a plan that rescans the subquery for
// each row (a nested loop) finds the rows this statement already updated skipped by the lock and
// returns the next ones, so one claim took every due job.

describe.skipIf(unavailable('postgres'))('claiming due jobs on Postgres', () => {
  let database: TestDatabase
  let handle: DatabaseHandle

  beforeEach(async () => {
    database = await createTestDatabase('postgres')
    if (database.target.dialect !== 'postgres') throw new Error('a Postgres database was asked for')
    // One connection, so the planner settings below apply to the claim.
    handle = openDatabase({ ...database.target, poolSize: 1 })
    await migrateToLatest(handle)
  })

  afterEach(async () => {
    await handle.close()
    await database.drop()
  })

  it('claims no more than the limit when the plan rescans the due rows for each job', async () => {
    const repos = createRepositories(handle.db)
    const project = await seedProject(repos)
    for (let i = 0; i < 10; i += 1) await seedProjectJob(repos, project.id, `due-${i}`)
    for (const setting of ['enable_hashjoin', 'enable_mergejoin', 'enable_material', 'enable_seqscan'])
      await sql`${sql.raw(`set ${setting} = off`)}`.execute(handle.db)
    const claimed = await createJobLedger(handle).claimDue({
      token: 'claimer',
      limit: 2,
      leaseUntil: new Date(Date.now() + 60_000).toISOString(),
      queues: ['default'],
    })
    expect(claimed.jobs).toHaveLength(2)
    expect(claimed.mayHaveMore).toBe(true)
    const started = await repos.jobs.list({ status: 'started', limit: 20 })
    expect(started).toHaveLength(2)
  })

  it('says whether a due job is left beyond those it took', async () => {
    const repos = createRepositories(handle.db)
    const project = await seedProject(repos)
    const ledger = createJobLedger(handle)
    const claim = (limit: number) =>
      ledger.claimDue({
        token: `t-${limit}`,
        limit,
        leaseUntil: new Date(Date.now() + 60_000).toISOString(),
        queues: ['default'],
      })
    for (let i = 0; i < 3; i += 1) await seedProjectJob(repos, project.id, `due-${i}`)
    // Not yet due, and in another queue: neither is left for this claimer.
    const aJob = (id: string) => ({
      id,
      type: 'spec_audit_job' as const,
      payload: {},
      maxAttempts: 3,
      projectId: project.id,
      protocolRunId: null,
      stepRunId: null,
    })
    await repos.jobs.add({ ...aJob('later'), nextRunAt: new Date(Date.now() + 60_000).toISOString() })
    await repos.jobs.add({ ...aJob('elsewhere'), queue: 'other' })
    const first = await claim(2)
    expect([first.jobs.length, first.mayHaveMore]).toEqual([2, true])
    const second = await claim(1)
    expect([second.jobs.length, second.mayHaveMore]).toEqual([1, false])
  })
})
