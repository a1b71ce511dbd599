import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { Repositories, UnitOfWork } from '../../src/app/ports.js'
import type { NewJob } from '../../src/domain/job.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun, seedStep, unique } from '../support/fixtures.js'

// The jobs a unit of work adds are written together when it commits (job-inserts.ts); what a
// caller sees must not change: the rows commit or roll back with the rest, and a read of the jobs
// inside the same unit of work sees the ones added before it.

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`jobs added in a unit of work (${dialect})`, () => {
    let handle: DatabaseHandle
    let close: () => Promise<void>
    let repos: Repositories
    let uow: UnitOfWork

    beforeAll(async () => {
      ;({ handle, close } = await openMigratedDatabase(dialect))
      repos = createRepositories(handle.db)
      uow = createUnitOfWork(handle.db)
    })
    afterAll(() => close())

    const seedSteps = async (count: number) => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const steps = []
      for (let i = 0; i < count; i += 1) steps.push(await seedStep(repos, run.id))
      return { project, run, steps }
    }

    const stepJob = (projectId: number, runId: number, stepId: number): NewJob => ({
      id: `test-${unique()}`,
      type: 'execute_step_job',
      payload: { step_run_id: stepId, note: 'ünïcode "quoted" \\ {}' },
      maxAttempts: 3,
      projectId,
      protocolRunId: runId,
      stepRunId: stepId,
    })

    it('stores every job of a unit of work exactly as add returned it', async () => {
      const { project, run, steps } = await seedSteps(3)
      const added = await uow.run(async (tx) =>
        Promise.all(steps.map((step) => tx.jobs.add(stepJob(project.id, run.id, step.id)))),
      )
      for (const job of added) expect(await repos.jobs.findById(job.id)).toEqual(job)
      expect(added.map((job) => job.status)).toEqual(['queued', 'queued', 'queued'])
    })

    it('lets a later read in the same unit of work see the jobs added before it', async () => {
      const { project, run, steps } = await seedSteps(2)
      const { found, cancelled, ids } = await uow.run(async (tx) => {
        const jobs = [
          await tx.jobs.add(stepJob(project.id, run.id, steps[0]!.id)),
          await tx.jobs.add(stepJob(project.id, run.id, steps[1]!.id)),
        ]
        const found = await tx.jobs.findById(jobs[0]!.id)
        return { found, cancelled: await tx.jobs.cancelForRun(run.id), ids: jobs.map((job) => job.id) }
      })
      expect(found?.id).toBe(ids[0])
      expect([...cancelled].sort()).toEqual([...ids].sort())
      expect((await repos.jobs.findById(ids[1]!))?.status).toBe('cancelled')
    })

    it('leaves no job behind when the unit of work fails after adding it', async () => {
      const { project, run, steps } = await seedSteps(1)
      const job = stepJob(project.id, run.id, steps[0]!.id)
      const failed = uow.run(async (tx) => {
        await tx.jobs.add(job)
        throw new Error('undo')
      })
      await expect(failed).rejects.toThrow('undo')
      expect(await repos.jobs.findById(job.id)).toBeUndefined()
    })

    it('undoes the whole unit of work, its state change included, when one of its jobs cannot be written', async () => {
      const { project, run, steps } = await seedSteps(1)
      const good = stepJob(project.id, run.id, steps[0]!.id)
      const failed = uow.run(async (tx) => {
        await tx.steps.update(steps[0]!.id, { summary: 'changed' })
        await tx.jobs.add(good)
        // No such step: the foreign key refuses the row when the jobs are written, at commit.
        await tx.jobs.add(stepJob(project.id, run.id, 2_000_000_000))
      })
      await expect(failed).rejects.toThrow()
      expect(await repos.jobs.findById(good.id)).toBeUndefined()
      expect((await repos.steps.findById(steps[0]!.id))?.summary).not.toBe('changed')
    })

    it.skipIf(dialect !== 'postgres')('writes fifty jobs with one statement', async () => {
      const { project, run, steps } = await seedSteps(50)
      const sent = vi.spyOn(pg.Client.prototype, 'query')
      try {
        await uow.run(async (tx) => {
          for (const step of steps) await tx.jobs.add(stepJob(project.id, run.id, step.id))
        })
        // BEGIN goes out with the insert (postgres-begin.ts), then COMMIT.
        expect(sent).toHaveBeenCalledTimes(2)
      } finally {
        sent.mockRestore()
      }
      const stored = await repos.jobs.list({ projectId: project.id, limit: 100 })
      expect(stored.map((job) => job.stepRunId).sort()).toEqual(steps.map((step) => step.id).sort())
    })
  })
}
