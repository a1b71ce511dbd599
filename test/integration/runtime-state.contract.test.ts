import { describe, expect, it } from 'vitest'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { migratedDatabasePerSuite } from '../support/suite-resources.js'
import { seedProject } from '../support/fixtures.js'

describe.each(DIALECTS)('step runtime_state merges on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)

  const newStep = async (label: string) =>
    createUnitOfWork(db.handle.db).run(async (tx) => {
      const project = await seedProject(tx, {
        name: `rs-${label}-${Math.random().toString(16).slice(2, 8)}`,
        gitUrl: '/srv/repos/x',
      })
      const run = await tx.runs.create({
        projectId: project.id,
        protocolName: '0001-rs',
        status: 'running',
        baseBranch: 'main',
      })
      return tx.steps.create({
        protocolRunId: run.id,
        stepIndex: 0,
        stepName: '00-a',
        stepType: 'work',
        status: 'pending',
      })
    })

  it.skipIf(unavailable(dialect))(
    'sets and removes top-level keys and lays map entries over the stored map for merge keys',
    async () => {
      const step = await newStep('merge')
      const repo = createRepositories(db.handle.db).steps
      const maps = ['loop_counts']
      await repo.mergeRuntimeState(step.id, { job_id: 'a', loop_counts: { m: 1 } }, maps)
      await repo.mergeRuntimeState(step.id, { loop_counts: { n: 2 }, last_action: 'loop_step_back' }, maps)
      const merged = await repo.mergeRuntimeState(step.id, { job_id: null, loop_counts: { m: 3 } }, maps)
      expect(merged?.runtimeState).toEqual({ loop_counts: { m: 3, n: 2 }, last_action: 'loop_step_back' })
      expect(await repo.mergeRuntimeState(step.id + 10_000, { a: 1 })).toBeUndefined()
    },
  )

  it.skipIf(unavailable(dialect))(
    'replaces an object value whole, so a new CI failure keeps nothing of the previous one',
    async () => {
      const step = await newStep('replace')
      const repo = createRepositories(db.handle.db).steps
      const first = { head_sha: 'h1', job: 'test', log_excerpt: 'old log', nested: { a: 1 } }
      await repo.mergeRuntimeState(step.id, { ci_failure: first, job_id: 'j' })
      const second = { description: 'new failure', sha: null, nested: { b: 2 } }
      const replaced = await repo.mergeRuntimeState(step.id, { ci_failure: second })
      expect(replaced?.runtimeState).toEqual({ ci_failure: second, job_id: 'j' })
    },
  )

  it.skipIf(dialect !== 'postgres' || unavailable(dialect))(
    'a transaction holding a stale copy does not wipe a key another one committed meanwhile',
    async () => {
      const step = await newStep('race')
      const uow = createUnitOfWork(db.handle.db)
      let release!: () => void
      const gate = new Promise<void>((resolve) => (release = resolve))
      const slow = uow.run(async (tx) => {
        const stale = await tx.steps.findById(step.id)
        expect(stale?.runtimeState).toBeNull()
        await gate
        await tx.steps.mergeRuntimeState(step.id, { loop_counts: { slow: 1 } }, ['loop_counts'])
      })
      await uow.run((tx) =>
        tx.steps.mergeRuntimeState(step.id, { job_id: 'fast', loop_counts: { fast: 1 } }, ['loop_counts']),
      )
      release()
      await slow
      const final = await uow.run((tx) => tx.steps.findById(step.id))
      expect(final?.runtimeState).toEqual({ job_id: 'fast', loop_counts: { fast: 1, slow: 1 } })
    },
  )
})
