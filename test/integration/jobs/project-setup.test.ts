import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createProjectSetupHandler } from '../../../src/app/protocol/setup/project-setup.job.js'
import { changeRunStatus } from '../../../src/app/state-changes.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { makeLocalRepo } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState } from './protocol-fixture.js'
import { seedProjectSetup } from '../../support/fixtures.js'

describe.each(DIALECTS)('project_setup_job on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  const seed = async () => {
    root = tempRoot('tgz-setup-')
    const repo = makeLocalRepo(join(root, 'repo'))
    const seeded = await createUnitOfWork(db.handle.db).run((tx) =>
      seedProjectSetup(tx, { name: `setup-${Math.random().toString(16).slice(2)}`, gitUrl: repo }),
    )
    return { repo, ...seeded }
  }

  it.skipIf(unavailable(dialect))('completes the setup run and records the checkout', async () => {
    const { repo, project, run } = await seed()
    const handler = createProjectSetupHandler(makeJobDeps(db.handle, root))
    expect(
      await handler({ project_id: project.id, protocol_run_id: run.id, job_id: 's' }, jobRun()),
    ).toMatchObject({
      outcome: 'completed',
    })
    const state = await readState(db.handle, run.id)
    expect(state.run.status).toBe('completed')
    expect(state.events).toEqual([
      'setup_started',
      'setup_local_path_recorded',
      'setup_git_remote',
      'setup_clarifications',
      'setup_completed',
    ])
    const stored = await createUnitOfWork(db.handle.db).run((tx) => tx.projects.findById(project.id))
    expect(stored?.localPath).toBe(repo)
    const events = await createUnitOfWork(db.handle.db).run((tx) =>
      tx.events.list({ protocolRunId: run.id, eventType: 'setup_clarifications', limit: 1 }),
    )
    expect((events[0]!.metadata!.questions as unknown[]).length).toBe(9)
  })

  it.skipIf(unavailable(dialect))('blocks until clarifications are answered, then completes', async () => {
    const { project, run } = await seed()
    const handler = createProjectSetupHandler(makeJobDeps(db.handle, root, { requireClarifications: true }))
    const payload = { project_id: project.id, protocol_run_id: run.id, job_id: 's' }
    expect(await handler(payload, jobRun())).toEqual({ outcome: 'blocked', reason: 'clarifications' })
    expect((await readState(db.handle, run.id)).run.status).toBe('blocked')
    // A blocked run is left alone by a stray delivery.
    expect(await handler(payload, jobRun())).toMatchObject({ skipped: expect.any(String) })
    // What POST /projects/{id}/clarifications does: answers stored, run back to running, job re-enqueued.
    await createUnitOfWork(db.handle.db).run(async (tx) => {
      await tx.projects.update(project.id, { clarifications: { ci_provider: 'github' } })
      const blocked = (await tx.runs.findById(run.id))!
      await changeRunStatus(tx, blocked, 'run', {
        event: { type: 'setup_enqueued', message: 'test' },
        origin: {},
      })
    })
    expect(await handler(payload, jobRun())).toMatchObject({ outcome: 'completed' })
    const state = await readState(db.handle, run.id)
    expect(state.run.status).toBe('completed')
    expect(state.events.filter((e) => e === 'setup_blocked')).toHaveLength(1)
  })
})
