import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { importWorkspace } from './codemachine-fixture.js'
import { readState, startStep } from './protocol-fixture.js'

const AGENT = fileURLToPath(new URL('../../fixtures/agents/codemachine-agent.mjs', import.meta.url))

describe.each(DIALECTS)('CodeMachine step execution on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))(
    'runs each agent with its engine and model, writes the outputs, skips QA by policy and completes the run',
    async () => {
      root = tempRoot('tgz-cm-exec-')
      const deps = makeJobDeps(db.handle, root, { command: AGENT })
      const { workspace, run, steps } = await importWorkspace(db.handle, root)
      for (const step of steps) {
        await startStep(db.handle, run, step)
        const result = await createExecuteStepHandler(deps)(
          { step_run_id: step.id, job_id: 'cm-exec' },
          jobRun(),
        )
        expect(result).toMatchObject({ outcome: 'completed', qa_policy: 'skip' })
      }
      const main = readFileSync(join(workspace, '.protocols', '0001-cm', '00-plan.md'), 'utf8')
      expect(main).toContain('agent answer (model=model-a)')
      expect(main).toContain('# Plan the work')
      expect(main).toMatch(/\n---\n# Specification\n\n# Spec\n\nThe product must greet the user\./)
      const aux = readFileSync(join(workspace, '.codemachine', 'outputs', 'build.md'), 'utf8')
      expect(aux).toContain('agent answer (model=template-model)')
      expect(aux).toContain('# Build it')
      expect(readFileSync(join(workspace, '.protocols', '0001-cm', 'log.md'), 'utf8')).toContain(
        '02-review executed via CodeMachine agent review (command).',
      )
      expect(existsSync(join(workspace, '.git'))).toBe(false)
      const state = await readState(db.handle, run.id)
      expect(state.run.status).toBe('completed')
      expect(state.steps.map((s) => [s.stepName, s.status, s.engineId, s.model])).toEqual([
        ['00-plan', 'completed', 'command', 'model-a'],
        ['01-build', 'completed', 'command', 'template-model'],
        ['02-review', 'completed', 'command', 'template-model'],
      ])
      const perStep = state.events.filter((type) =>
        ['codemachine_step_completed', 'step_completed', 'qa_skipped_policy'].includes(type),
      )
      expect(perStep.slice(0, 3)).toEqual([
        'codemachine_step_completed',
        'step_completed',
        'qa_skipped_policy',
      ])
      expect(perStep.filter((type) => type === 'codemachine_step_completed')).toHaveLength(3)
    },
  )

  it.skipIf(unavailable(dialect))(
    'prefers <workspace>/outputs for aux outputs when that folder exists',
    async () => {
      root = tempRoot('tgz-cm-exec-')
      const deps = makeJobDeps(db.handle, root, { command: AGENT })
      const { workspace, run, steps } = await importWorkspace(db.handle, root)
      cpSync(join(workspace, '.codemachine', 'outputs'), join(workspace, 'outputs'), { recursive: true })
      await startStep(db.handle, run, steps[0]!)
      await createExecuteStepHandler(deps)({ step_run_id: steps[0]!.id, job_id: 'cm-exec' }, jobRun())
      expect(readFileSync(join(workspace, 'outputs', 'plan.md'), 'utf8')).toContain('# Plan the work')
      expect(existsSync(join(workspace, '.codemachine', 'outputs', 'plan.md'))).toBe(false)
    },
  )

  it.skipIf(unavailable(dialect))(
    'fails the step and blocks the run with codemachine_step_failed when the agent exits non-zero',
    async () => {
      root = tempRoot('tgz-cm-exec-')
      const deps = makeJobDeps(db.handle, root, { command: AGENT, agentArgs: ['--exit=3'] })
      const { workspace, run, steps } = await importWorkspace(db.handle, root)
      await startStep(db.handle, run, steps[0]!)
      const result = await createExecuteStepHandler(deps)(
        { step_run_id: steps[0]!.id, job_id: 'cm-exec' },
        jobRun(),
      )
      expect(result).toMatchObject({ outcome: 'failed', reason: 'step_execution_failed' })
      const state = await readState(db.handle, run.id)
      expect(state.steps[0]!.status).toBe('failed')
      expect(state.run.status).toBe('blocked')
      expect(state.events).toContain('codemachine_step_failed')
      expect(existsSync(join(workspace, '.protocols', '0001-cm', '00-plan.md'))).toBe(false)
    },
  )

  it.skipIf(unavailable(dialect))('fails a step whose agent is not in the imported template', async () => {
    root = tempRoot('tgz-cm-exec-')
    const deps = makeJobDeps(db.handle, root, { command: AGENT })
    const { run } = await importWorkspace(db.handle, root)
    const stray = await createUnitOfWork(db.handle.db).run((tx) =>
      tx.steps.create({
        protocolRunId: run.id,
        stepIndex: 3,
        stepName: '03-stranger',
        stepType: 'work',
        status: 'pending',
      }),
    )
    await startStep(db.handle, run, stray)
    const result = await createExecuteStepHandler(deps)(
      { step_run_id: stray.id, job_id: 'cm-exec' },
      jobRun(),
    )
    expect(result).toMatchObject({ outcome: 'failed', reason: 'agent_missing' })
    const state = await readState(db.handle, run.id)
    expect(state.run.status).toBe('blocked')
    expect(state.events).toContain('codemachine_step_failed')
  })

  it.skipIf(unavailable(dialect))(
    'honours a full QA policy from template.json: needs_qa, then QA in the workspace completes the step',
    async () => {
      root = tempRoot('tgz-cm-exec-')
      const deps = makeJobDeps(db.handle, root, { command: AGENT })
      const { workspace, run, steps } = await importWorkspace(db.handle, root, (path) => {
        writeFileSync(join(path, '.codemachine', 'template.json'), '{"qa": {"policy": "full"}}\n')
        git(path, 'init', '--initial-branch=main')
      })
      await startStep(db.handle, run, steps[0]!)
      const executed = await createExecuteStepHandler(deps)(
        { step_run_id: steps[0]!.id, job_id: 'cm-exec' },
        jobRun(),
      )
      expect(executed).toMatchObject({ outcome: 'needs_qa', qa_policy: 'full' })
      const qa = await createRunQualityHandler(deps)({ step_run_id: steps[0]!.id, job_id: 'cm-qa' }, jobRun())
      expect(qa).toMatchObject({ verdict: 'PASS' })
      const state = await readState(db.handle, run.id)
      expect(state.steps[0]!.status).toBe('completed')
      expect(readFileSync(join(workspace, '.protocols', '0001-cm', 'quality-report.md'), 'utf8')).toContain(
        'VERDICT: PASS',
      )
      expect(existsSync(join(root, 'worktrees'))).toBe(false)
    },
  )
})
