import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { CM_AGENT, importWorkspace } from './codemachine-fixture.js'
import { startStep } from './protocol-fixture.js'

const SECRET = 'DATABASE_URL=postgresql://admin:hunter2@db/prod'

/** The run's failure events, with their metadata. */
const failures = (handle: DatabaseHandle, runId: number) =>
  createUnitOfWork(handle.db).run(async (tx) =>
    (await tx.events.list({ protocolRunId: runId, limit: 500, order: 'asc' }))
      .filter((e) => e.eventType === 'codemachine_step_failed')
      .map((e) => ({ message: e.message, metadata: e.metadata })),
  )

const statusOf = (handle: DatabaseHandle, runId: number) =>
  createUnitOfWork(handle.db).run(async (tx) => ({
    run: (await tx.runs.findById(runId))!.status,
    steps: (await tx.steps.listByRun(runId)).map((s) => s.status),
  }))

describe.each(DIALECTS)('CodeMachine file access stays inside the workspace on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  let outside: string
  const tempRoot = tempDirsPerTest()

  /** A run of the esm-camel workspace with `tamper` applied after import; its first step started. */
  const setUp = async (
    tamper: (workspace: string) => void,
    template?: string,
    beforeImport: (workspace: string) => void = () => undefined,
  ) => {
    root = tempRoot('tgz-cm-contain-')
    outside = join(root, 'outside')
    mkdirSync(outside)

    writeFileSync(join(outside, 'environ'), `${SECRET}\n`)
    const deps = makeJobDeps(db.handle, root, { command: CM_AGENT })
    const imported = await importWorkspace(db.handle, root, (ws) => {
      if (template) writeFileSync(join(ws, '.codemachine', 'template.json'), template)
      beforeImport(ws)
    })
    tamper(imported.workspace)
    const step = imported.steps[0]!
    await startStep(db.handle, imported.run, step)
    const execute = () => createExecuteStepHandler(deps)({ step_run_id: step.id, job_id: 'cm-x' }, jobRun())
    const qa = () => createRunQualityHandler(deps)({ step_run_id: step.id, job_id: 'cm-qa' }, jobRun())
    return { ...imported, execute, qa }
  }

  it.skipIf(unavailable(dialect))(
    'refuses a specification that links outside the workspace before any agent sees it',
    async () => {
      const { workspace, run, execute } = await setUp((ws) => {
        const spec = join(ws, '.codemachine', 'inputs', 'specifications.md')
        rmSync(spec)
        symlinkSync(join(outside, 'environ'), spec)
      })
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
      const [failure] = await failures(db.handle, run.id)
      expect(failure?.metadata).toMatchObject({ cause: 'path_outside_workspace', step_name: '00-plan' })
      expect(failure?.message).toContain('specifications.md')
      expect(failure?.message).not.toContain('hunter2')
      expect(await statusOf(db.handle, run.id)).toMatchObject({
        run: 'blocked',
        steps: ['failed', 'pending', 'pending'],
      })
      expect(existsSync(join(workspace, '.protocols', '0001-cm', '00-plan.md'))).toBe(false)
    },
  )

  it.skipIf(unavailable(dialect))('refuses an inputs folder that is a link to elsewhere', async () => {
    const { run, execute } = await setUp((ws) => {
      rmSync(join(ws, '.codemachine', 'inputs'), { recursive: true })
      symlinkSync(outside, join(ws, '.codemachine', 'inputs'))
      writeFileSync(join(outside, 'specifications.md'), `${SECRET}\n`)
    })
    expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
    expect((await statusOf(db.handle, run.id)).run).toBe('blocked')
  })

  it.skipIf(unavailable(dialect))(
    'refuses to write aux outputs through an outputs folder linked outside (e.g. ~/.ssh)',
    async () => {
      const { run, execute } = await setUp((ws) => {
        rmSync(join(ws, '.codemachine', 'outputs'), { recursive: true })
        symlinkSync(outside, join(ws, '.codemachine', 'outputs'))
      })
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
      expect(readdirSync(outside)).toEqual(['environ'])
      const [failure] = await failures(db.handle, run.id)
      expect(failure?.metadata).toMatchObject({ cause: 'path_outside_workspace' })
      expect(await statusOf(db.handle, run.id)).toMatchObject({
        run: 'blocked',
        steps: ['failed', 'pending', 'pending'],
      })
    },
  )

  it.skipIf(unavailable(dialect))(
    'refuses to write through an output file that is itself a symlink',
    async () => {
      const { workspace, run, execute } = await setUp((ws) => {
        const target = join(ws, 'notes.md')
        writeFileSync(target, 'keep me\n')
        mkdirSync(join(ws, '.protocols', '0001-cm'), { recursive: true })
        symlinkSync(target, join(ws, '.protocols', '0001-cm', '00-plan.md'))
      })
      expect(await execute()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
      expect(readFileSync(join(workspace, 'notes.md'), 'utf8')).toBe('keep me\n')
      expect((await statusOf(db.handle, run.id)).run).toBe('blocked')
    },
  )

  it.skipIf(unavailable(dialect))(
    'QA refuses an agent answer swapped for a link outside the workspace',
    async () => {
      const { workspace, run, execute, qa } = await setUp(
        (ws) => git(ws, 'init', '--initial-branch=main'),
        '{"qa": {"policy": "full"}}\n',
      )
      expect(await execute()).toMatchObject({ outcome: 'needs_qa' })
      const answer = join(workspace, '.protocols', '0001-cm', '00-plan.md')
      rmSync(answer)
      symlinkSync(join(outside, 'environ'), answer)
      expect(await qa()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
      const [failure] = await failures(db.handle, run.id)
      expect(failure?.metadata).toMatchObject({ cause: 'path_outside_workspace', phase: 'qa' })
      expect(await statusOf(db.handle, run.id)).toMatchObject({
        run: 'blocked',
        steps: ['failed', 'pending', 'pending'],
      })
      expect(existsSync(join(workspace, '.protocols', '0001-cm', 'quality-report.md'))).toBe(false)
    },
  )

  it.skipIf(unavailable(dialect))(
    'QA refuses a custom QA prompt that links outside the workspace',
    async () => {
      const { run, execute, qa } = await setUp(
        (ws) => git(ws, 'init', '--initial-branch=main'),
        '{"qa": {"policy": "full", "prompt": "prompts/qa.md"}}\n',
        (ws) => symlinkSync(join(outside, 'environ'), join(ws, '.codemachine', 'prompts', 'qa.md')),
      )
      expect(await execute()).toMatchObject({ outcome: 'needs_qa' })
      expect(await qa()).toMatchObject({ outcome: 'failed', reason: 'path_outside_workspace' })
      expect((await statusOf(db.handle, run.id)).run).toBe('blocked')
    },
  )
})
