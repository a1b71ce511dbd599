import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { enqueueJob } from '../../src/app/queue-runtime/enqueue.js'
import type { JobClaim } from '../../src/app/job-claim.port.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import {
  batchAttemptBookkeeping,
  type AttemptBookkeeping,
} from '../../src/adapters/storage/job-attempt-batches.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { Job } from '../../src/domain/job.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun } from '../support/fixtures.js'

const LEASE = new Date(Date.now() + 60_000).toISOString()

// Calls made in one tick while the first is in flight share the next statement on Postgres; every
// row must still get exactly what its own single statement would have written.
for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`batched job bookkeeping on ${dialect}`, () => {
    let db: { handle: DatabaseHandle; close(): Promise<void> }
    let bookkeeping: AttemptBookkeeping
    let jobs: Job[]
    let stepIds: number[]

    beforeEach(async () => {
      db = await openMigratedDatabase(dialect)
      bookkeeping = batchAttemptBookkeeping(db.handle, createRepositories(db.handle.db).jobs)
      const seeded = await createUnitOfWork(db.handle.db).run(async (repos) => {
        const project = await seedProject(repos)
        const run = await seedRun(repos, project.id, 'running')
        const added: Job[] = []
        const ids: number[] = []
        for (let i = 0; i < 6; i += 1) {
          const step = await repos.steps.create({
            protocolRunId: run.id,
            stepIndex: i,
            stepName: `s${i}`,
            stepType: 'work',
            status: 'pending',
          })
          ids.push(step.id)
          const scope = { projectId: run.projectId, protocolRunId: run.id, stepRunId: step.id }
          added.push(
            await enqueueJob(
              repos.jobs,
              'execute_step_job',
              { step_run_id: step.id },
              { scope, origin: {}, policy: { maxAttempts: 3 } },
            ),
          )
        }
        return { added, ids }
      })
      jobs = seeded.added
      stepIds = seeded.ids
    })
    afterEach(async () => db.close())

    const claimOf = (job: Job, token: string): JobClaim => ({
      jobId: job.id,
      token,
      attempt: 1,
      maxAttempts: 3,
    })

    it('begins, prechecks and settles concurrent attempts each as its own statement would', async () => {
      const claims = jobs.map((job, i) => claimOf(job, `t${i}`))
      const begun = await Promise.all(claims.map((claim) => bookkeeping.begin(claim, LEASE)))
      expect(begun.map((job) => [job?.id, job?.status, job?.attempts])).toEqual(
        jobs.map((job) => [job.id, 'started', 1]),
      )
      const facts = await Promise.all(jobs.map((job) => bookkeeping.precheckFacts(job)))
      expect(facts).toEqual(
        jobs.map(() => ({ runStatus: 'running', stepStatus: 'pending', otherStartedForStep: 0 })),
      )
      const settled = await Promise.all(
        claims.map((claim, i) => bookkeeping.settle(claim, { status: 'finished', result: { n: i } })),
      )
      expect(settled).toEqual(jobs.map(() => true))
      const rows = await Promise.all(
        jobs.map((job) => createRepositories(db.handle.db).jobs.findById(job.id)),
      )
      expect(rows.map((row) => [row?.status, row?.result])).toEqual(
        jobs.map((_, i) => ['finished', { n: i }]),
      )
      expect(stepIds).toHaveLength(jobs.length)
    })

    it('writes nothing for a stale claim settled in the same batch as live ones', async () => {
      const claims = jobs.map((job, i) => claimOf(job, `t${i}`))
      await Promise.all(claims.map((claim) => bookkeeping.begin(claim, LEASE)))
      const stale = { ...claims[2]!, token: 'taken-over' }
      const settled = await Promise.all([
        bookkeeping.settle(claims[0]!, { status: 'finished', result: null }),
        bookkeeping.settle(claims[1]!, { status: 'finished', result: null }),
        bookkeeping.settle(stale, { status: 'finished', result: null }),
        bookkeeping.settle(claims[3]!, { status: 'finished', result: null }),
      ])
      expect(settled).toEqual([true, true, false, true])
      const row = await createRepositories(db.handle.db).jobs.findById(jobs[2]!.id)
      expect(row).toMatchObject({ status: 'started', attempts: 1 })
    })

    it('does not begin a job that already ended, whatever else shares its batch', async () => {
      const claims = jobs.map((job, i) => claimOf(job, `t${i}`))
      await bookkeeping.begin(claims[0]!, LEASE)
      await bookkeeping.settle(claims[0]!, { status: 'finished', result: null })
      const again = await Promise.all([
        bookkeeping.begin(claims[1]!, LEASE),
        bookkeeping.begin({ ...claims[0]!, token: 'redelivery', attempt: 2 }, LEASE),
        bookkeeping.begin(claims[2]!, LEASE),
      ])
      expect(again.map((job) => job?.status)).toEqual(['started', undefined, 'started'])
    })

    it('answers begins, prechecks and settlements of different jobs sharing one batch', async () => {
      const claims = jobs.map((job, i) => claimOf(job, `t${i}`))
      await Promise.all(claims.slice(0, 3).map((claim) => bookkeeping.begin(claim, LEASE)))
      const [finished, stale, facts, begun, missing] = await Promise.all([
        bookkeeping.settle(claims[0]!, { status: 'finished', result: 'done' }),
        bookkeeping.settle({ ...claims[1]!, token: 'taken-over' }, { status: 'finished', result: null }),
        bookkeeping.precheckFacts(jobs[2]!),
        bookkeeping.begin(claims[3]!, LEASE),
        bookkeeping.begin({ ...claims[4]!, jobId: 'no-such-job' }, LEASE),
      ])
      expect([finished, stale, begun?.status, missing]).toEqual([true, false, 'started', undefined])
      expect(facts).toEqual({ runStatus: 'running', stepStatus: 'pending', otherStartedForStep: 0 })
      const repos = createRepositories(db.handle.db)
      expect((await repos.jobs.findById(jobs[0]!.id))?.result).toBe('done')
      expect((await repos.jobs.findById(jobs[1]!.id))?.status).toBe('started')
    })

    // The first call goes out alone; the calls made while it is in flight share the next
    // statement, so each test below sends one mix of two kinds (one statement text each).
    it('answers settlements and prechecks sharing a batch without begins', async () => {
      const claims = jobs.map((job, i) => claimOf(job, `t${i}`))
      await Promise.all(claims.slice(0, 2).map((claim) => bookkeeping.begin(claim, LEASE)))
      const [, finished, stale, facts] = await Promise.all([
        bookkeeping.precheckFacts(jobs[5]!),
        bookkeeping.settle(claims[0]!, { status: 'finished', result: { n: 7 } }),
        bookkeeping.settle({ ...claims[1]!, token: 'taken-over' }, { status: 'finished', result: null }),
        bookkeeping.precheckFacts(jobs[1]!),
      ])
      expect([finished, stale]).toEqual([true, false])
      expect(facts).toEqual({ runStatus: 'running', stepStatus: 'pending', otherStartedForStep: 0 })
      const repos = createRepositories(db.handle.db)
      expect(await repos.jobs.findById(jobs[0]!.id)).toMatchObject({ status: 'finished', result: { n: 7 } })
      expect((await repos.jobs.findById(jobs[1]!.id))?.status).toBe('started')
    })

    it('answers begins and prechecks sharing a batch without settlements, even when no begin matches', async () => {
      await bookkeeping.begin(claimOf(jobs[0]!, 'a'), LEASE)
      const [, begun, missing, facts] = await Promise.all([
        bookkeeping.precheckFacts(jobs[5]!),
        bookkeeping.begin(claimOf(jobs[1]!, 'b'), LEASE),
        bookkeeping.begin({ ...claimOf(jobs[2]!, 'c'), jobId: 'no-such-job' }, LEASE),
        bookkeeping.precheckFacts(jobs[0]!),
      ])
      expect([begun?.id, begun?.status, missing]).toEqual([jobs[1]!.id, 'started', undefined])
      expect(facts).toEqual({ runStatus: 'running', stepStatus: 'pending', otherStartedForStep: 0 })
      const [, none, alsoFacts] = await Promise.all([
        bookkeeping.precheckFacts(jobs[5]!),
        bookkeeping.begin({ ...claimOf(jobs[2]!, 'c'), jobId: 'no-such-job' }, LEASE),
        bookkeeping.precheckFacts(jobs[1]!),
      ])
      expect(none).toBeUndefined()
      expect(alsoFacts).toEqual({ runStatus: 'running', stepStatus: 'pending', otherStartedForStep: 0 })
    })

    it('answers begins and settlements sharing a batch without prechecks', async () => {
      await bookkeeping.begin(claimOf(jobs[0]!, 'a'), LEASE)
      const [, begun, finished] = await Promise.all([
        bookkeeping.precheckFacts(jobs[5]!),
        bookkeeping.begin(claimOf(jobs[1]!, 'b'), LEASE),
        bookkeeping.settle(claimOf(jobs[0]!, 'a'), { status: 'finished', result: 'r' }),
      ])
      expect([begun?.status, finished]).toEqual(['started', true])
      const repos = createRepositories(db.handle.db)
      expect(await repos.jobs.findById(jobs[0]!.id)).toMatchObject({ status: 'finished', result: 'r' })
    })

    it('counts the other started jobs of a step for each job of a batch', async () => {
      const repos = createRepositories(db.handle.db)
      const duplicate = await createUnitOfWork(db.handle.db).run((tx) =>
        enqueueJob(
          tx.jobs,
          'execute_step_job',
          { step_run_id: stepIds[0]! },
          {
            scope: {
              projectId: jobs[0]!.projectId,
              protocolRunId: jobs[0]!.protocolRunId,
              stepRunId: stepIds[0]!,
            },
            origin: {},
            policy: { maxAttempts: 3 },
          },
        ),
      )
      await Promise.all([
        bookkeeping.begin(claimOf(jobs[0]!, 'a'), LEASE),
        bookkeeping.begin(claimOf(duplicate, 'b'), LEASE),
      ])
      const facts = await Promise.all([
        bookkeeping.precheckFacts(jobs[0]!),
        bookkeeping.precheckFacts(duplicate),
        bookkeeping.precheckFacts(jobs[1]!),
      ])
      expect(facts.map((fact) => fact.otherStartedForStep)).toEqual([1, 1, 0])
      expect((await repos.jobs.findById(duplicate.id))?.status).toBe('started')
    })

    // Re-planned at each execution, the statement cost the server more CPU than running it.
    it.skipIf(dialect !== 'postgres')('keeps one generic plan for each lone kind of batch', async () => {
      // One at a time: the pool hands the same idle connection back, and the query below reads it.
      // Two rounds, so each text runs 12 times; the second round's begins and settlements miss.
      for (const round of [0, 1])
        for (const [i, job] of jobs.entries()) {
          const claim = claimOf(job, `g${i}`)
          await bookkeeping.begin(claim, LEASE)
          await bookkeeping.precheckFacts(job)
          await bookkeeping.settle(claim, { status: 'finished', result: round })
        }
      const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
        select generic_plans, custom_plans from pg_prepared_statements
        where statement like '%begun as%' or statement like '%finished as%' or statement like '%others%'`.execute(
        db.handle.db,
      )
      // Each text's first execution goes unprepared, then five custom plans (Postgres's rule),
      // then the generic one for the remaining six.
      expect(rows).toEqual(Array(3).fill({ generic_plans: 6, custom_plans: 5 }))
    })
  })
}
