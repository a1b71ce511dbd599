import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import type { ProtocolRun } from '../../../src/domain/protocol-run.js'
import type { StepRun } from '../../../src/domain/step-run.js'
import { changeStepStatus } from '../../../src/app/state-changes.js'
import { makeLocalRepo, makeOriginWithClone } from '../../support/git-repos.js'
import { join } from 'node:path'
import { seedProject, seedProjectRun, type ProjectRunSeed } from '../../support/fixtures.js'

/** A project on a fresh local repo, and a run of it in `planning`. */
export const seedPlanningRun = async (handle: DatabaseHandle, root: string, name = '0001-demo') => {
  const repo = makeLocalRepo(join(root, 'work', 'repo'))
  const uow = createUnitOfWork(handle.db)
  return uow.run(async (tx) => {
    const project = await seedProject(tx, {
      name: `p-${name}-${Math.random().toString(16).slice(2, 8)}`,
      gitUrl: repo,
      localPath: repo,
    })
    const run = await tx.runs.create({
      projectId: project.id,
      protocolName: name,
      status: 'planning',
      baseBranch: 'main',
      description: 'Add a demo feature',
    })
    return { repo, project, run }
  })
}

/**
 * A bare origin with one commit and a working clone of it under `root` (`makeOriginWithClone`), a
 * project whose local path is the clone, and a run of it with its steps: what a run that pushes
 * and opens PRs starts from.
 */
export const seedRunOnClone = async (
  handle: DatabaseHandle,
  root: string,
  seed: ProjectRunSeed & { readonly project: { readonly name: string; readonly gitUrl: string } },
) => {
  const { origin, clone } = makeOriginWithClone(root)
  const uow = createUnitOfWork(handle.db)
  const seeded = await uow.run((tx) =>
    seedProjectRun(tx, { ...seed, project: { ...seed.project, localPath: clone } }),
  )
  return { origin, clone, uow, ...seeded }
}

/** What the API does when a user runs a step: step → running. */
export const startStep = (handle: DatabaseHandle, run: ProtocolRun, step: StepRun) =>
  createUnitOfWork(handle.db).run(async (tx) => {
    const fresh = (await tx.steps.findById(step.id))!
    return changeStepStatus(tx, run, fresh, {
      action: 'run',
      event: { type: 'step_started', message: 'test' },
      origin: {},
    })
  })

export const readState = (handle: DatabaseHandle, runId: number) =>
  createUnitOfWork(handle.db).run(async (tx) => ({
    run: (await tx.runs.findById(runId))!,
    steps: await tx.steps.listByRun(runId),
    events: (await tx.events.list({ protocolRunId: runId, limit: 500, order: 'asc' })).map(
      (e) => e.eventType,
    ),
  }))

/** Replaces a run's template_config (tests that tune the spec). */
export const setTemplateConfig = (
  handle: DatabaseHandle,
  runId: number,
  templateConfig: ProtocolRun['templateConfig'],
) => createUnitOfWork(handle.db).run((tx) => tx.runs.update(runId, { templateConfig }))
