import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import type { JsonObject } from '../../../src/domain/json.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun, setTemplateConfig, startStep } from './protocol-fixture.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))

describe.each(DIALECTS)('light QA policy on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** A planned run whose every step has QA policy `light`; auto QA on, to show it is not used. */
  const lightRun = async (name: string) => {
    root = tempRoot('tgz-light-')
    const record = join(root, 'prompts')
    const deps = (...extra: string[]) =>
      makeJobDeps(db.handle, root, {
        command: RECORDING_AGENT,
        agentArgs: [`--record=${record}`, ...extra],
        autoQa: true,
      })
    const { run } = await seedPlanningRun(db.handle, root, name)
    await createPlanProtocolHandler(deps())({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
    const planned = await readState(db.handle, run.id)
    const spec = planned.run.templateConfig!.protocol_spec as { steps: JsonObject[] }
    const light = { ...spec, steps: spec.steps.map((step) => ({ ...step, qa: { policy: 'light' } })) }
    await setTemplateConfig(db.handle, run.id, { ...planned.run.templateConfig, protocol_spec: light })
    const execute = async (index: number, ...extra: string[]) => {
      const state = await readState(db.handle, run.id)
      const step = await startStep(db.handle, state.run, state.steps[index]!)
      return createExecuteStepHandler(deps(...extra))({ step_run_id: step.id, job_id: 'e' }, jobRun())
    }
    const qaPrompts = () =>
      readdirSync(record)
        .filter((file) => file.endsWith('-qa.txt'))
        .sort()
        .map((file) => readFileSync(join(record, file), 'utf8'))
    const protocolRoot = join(planned.run.worktreePath!, '.protocols', name)
    return { run, deps, execute, qaPrompts, protocolRoot }
  }

  it.skipIf(unavailable(dialect))(
    'reviews each step briefly in the execution job itself and completes the run on PASS',
    async () => {
      const { run, execute, qaPrompts, protocolRoot } = await lightRun('0001-light')
      for (const index of [0, 1, 2])
        expect(await execute(index)).toMatchObject({ outcome: 'executed', qa: { verdict: 'PASS' } })
      const state = await readState(db.handle, run.id)
      expect(state.run.status).toBe('completed')
      expect(state.steps.map((s) => [s.status, s.summary])).toEqual(
        Array(3).fill(['completed', 'QA verdict: PASS (inline)']),
      )
      expect(state.events.filter((e) => e === 'qa_passed_inline')).toHaveLength(3)
      expect(state.events).not.toContain('qa_passed')
      // Light QA never goes through the queue, even with auto QA on.
      expect(state.events).not.toContain('qa_enqueued')
      expect(state.events.at(-1)).toBe('protocol_completed')
      expect(qaPrompts()).toHaveLength(3)
      expect(qaPrompts()[1]).toContain('report only must-fix (blocking) issues')
      expect(qaPrompts()[1]).toContain('## Step file (01-build.md)')
      expect(readFileSync(join(protocolRoot, 'log.md'), 'utf8')).toContain(
        '02-polish.md: QA verdict: PASS (inline)',
      )
    },
  )

  it.skipIf(unavailable(dialect))('fails the step and blocks the run on an inline FAIL', async () => {
    const { run, execute } = await lightRun('0002-light-fail')
    expect(await execute(0, '--qa=FAIL', '--qa-report=Blocking: nothing was installed.')).toMatchObject({
      outcome: 'executed',
      qa: { verdict: 'FAIL' },
    })
    const state = await readState(db.handle, run.id)
    expect(state.steps[0]).toMatchObject({ status: 'failed', summary: 'QA failed (inline).' })
    expect(state.run.status).toBe('blocked')
    expect(state.events).toEqual(expect.arrayContaining(['qa_failed_inline', 'run_blocked']))
    expect(state.steps[0]!.runtimeState?.qa_failure).toMatchObject({
      report: expect.stringContaining('nothing was installed'),
    })
  })

  it.skipIf(unavailable(dialect))(
    'leaves the step awaiting a full QA when the inline review cannot run, and full QA then decides',
    async () => {
      const { run, deps, execute, qaPrompts } = await lightRun('0003-light-error')
      expect(await execute(0, '--qa-exit=3')).toMatchObject({
        outcome: 'executed',
        qa: { outcome: 'needs_qa', reason: 'qa_inline_error' },
      })
      let state = await readState(db.handle, run.id)
      expect(state.steps[0]).toMatchObject({ status: 'needs_qa', summary: 'Inline QA error; run full QA' })
      expect(state.run.status).toBe('running')
      expect(state.events).toContain('qa_inline_error')
      expect(state.events).not.toContain('run_blocked')
      expect(
        await createRunQualityHandler(deps())({ step_run_id: state.steps[0]!.id, job_id: 'q' }, jobRun()),
      ).toMatchObject({ verdict: 'PASS' })
      state = await readState(db.handle, run.id)
      expect(state.steps[0]).toMatchObject({ status: 'completed', summary: 'QA verdict: PASS' })
      expect(state.events).toContain('qa_passed')
      expect(qaPrompts().at(-1)).not.toContain('must-fix')
    },
  )
})
