import { join } from 'node:path'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer } from '../../src/composition/index.js'
import { silentStream } from './api.js'
import { removeDir, tempDir } from './git-repos.js'
import { seedProject } from './fixtures.js'

/** The commit the served run's one step produced. */
export const CI_RUN_SHA = 'c'.repeat(40)

export type ServedCiRun = Awaited<ReturnType<typeof serveCiRun>>

/**
 * A listening server on a temp SQLite file with a running run on `branch` whose one step
 * produced CI_RUN_SHA: what CI reports are matched against.
 */
export const serveCiRun = async (env: Record<string, string>, branch = '0007-reporter') => {
  const dir = tempDir('tgz-reporter-')
  const config = loadConfig({ TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), ...env }, dir)
  const running = await startServer(config, createLogger(config, silentStream()), {
    host: '127.0.0.1',
    port: 0,
  })
  const { repos } = running.runtime.deps
  const project = await seedProject(repos, { name: 'r', gitUrl: '/srv/r' })
  const run = await repos.runs.create({
    projectId: project.id,
    protocolName: branch,
    status: 'running',
    baseBranch: 'main',
  })
  const step = await repos.steps.create({
    protocolRunId: run.id,
    stepIndex: 0,
    stepName: '00-work',
    stepType: 'work',
    status: 'running',
  })
  await repos.steps.update(step.id, { headSha: CI_RUN_SHA })
  return {
    running,
    dir,
    runId: run.id,
    stepId: step.id,
    step: () => repos.steps.findById(step.id),
    run: () => repos.runs.findById(run.id),
    stop: async () => {
      await running.stop()
      removeDir(dir)
    },
  }
}
