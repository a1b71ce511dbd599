import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps, recordingCounters } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun, startStep } from './protocol-fixture.js'

describe.each(DIALECTS)('protocol jobs on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))(
    'plans three steps, executes them, QA passes and the run completes',
    async () => {
      root = tempRoot('tgz-jobs-')
      const { counters, seen } = recordingCounters()
      const deps = makeJobDeps(db.handle, root, { counters, agentArgs: ['--usage=100,20,0.01'] })
      const { run } = await seedPlanningRun(db.handle, root)
      const planned = await createPlanProtocolHandler(deps)(
        { protocol_run_id: run.id, job_id: 'j1' },
        jobRun(),
      )
      expect(planned).toMatchObject({ outcome: 'planned' })
      let state = await readState(db.handle, run.id)
      expect(state.run.status).toBe('planned')
      expect(state.steps.map((s) => s.stepName)).toEqual(['00-setup.md', '01-implement.md', '02-document.md'])
      const worktree = state.run.worktreePath!
      expect(worktree).toBe(join(root, 'work', 'worktrees', '0001-demo'))
      const protocolRoot = join(worktree, '.protocols', '0001-demo')
      for (const file of ['plan.md', 'context.md', 'log.md', '00-setup.md', '02-document.md'])
        expect(existsSync(join(protocolRoot, file))).toBe(true)
      expect(git(worktree, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('0001-demo')
      expect(git(worktree, 'log', '-1', '--format=%s').trim()).toBe('[protocol-0001/00] Plan 0001-demo')
      expect(state.events).toContain('planned')
      expect(state.run.templateConfig?.spec_meta).toMatchObject({ status: 'valid', errors: [] })
      // Re-delivery of the planning job is a no-op.
      expect(
        await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'j1' }, jobRun()),
      ).toEqual({
        skipped: 'run is not planning',
      })

      const execute = createExecuteStepHandler(deps)
      const qa = createRunQualityHandler(deps)
      for (const step of state.steps) {
        await startStep(db.handle, state.run, step)
        const executed = await execute(
          { step_run_id: step.id, job_id: 'x' },
          jobRun(undefined, `exec-${step.id}`),
        )
        expect(executed).toMatchObject({ outcome: 'needs_qa', qa_policy: 'full' })
        // A second delivery under another job id does nothing.
        expect(await execute({ step_run_id: step.id, job_id: 'y' }, jobRun())).toMatchObject({
          skipped: 'step is needs_qa',
        })
        expect(await qa({ step_run_id: step.id, job_id: 'q' }, jobRun())).toMatchObject({ verdict: 'PASS' })
      }
      state = await readState(db.handle, run.id)
      expect(state.run.status).toBe('completed')
      expect(state.steps.every((s) => s.status === 'completed' && s.headSha && s.tokensUsed === 120)).toBe(
        true,
      )
      expect(state.run.tokensUsed).toBe(120 * 7)
      expect(readFileSync(join(worktree, 'demo', '01-implement.txt'), 'utf8')).toContain('01-implement.md')
      expect(readFileSync(join(protocolRoot, 'outputs', '01-implement.md'), 'utf8')).toContain(
        'Completed 01-implement.md',
      )
      expect(readFileSync(join(protocolRoot, 'quality-report.md'), 'utf8')).toContain('VERDICT: PASS')
      expect(readFileSync(join(protocolRoot, 'log.md'), 'utf8')).toContain(
        '02-document.md: executed with command.',
      )
      const subjects = git(worktree, 'log', '--format=%s').trim().split('\n')
      expect(subjects.slice(0, 3)).toEqual([
        '[protocol-0001/02] Execute 02-document.md',
        '[protocol-0001/01] Execute 01-implement.md',
        '[protocol-0001/00] Execute 00-setup.md',
      ])
      expect(state.steps[1]!.headSha).toBe(git(worktree, 'rev-parse', 'HEAD~1').trim())
      const logPath = state.steps[1]!.runtimeState?.log_path as string
      expect(readFileSync(logPath, 'utf8')).toContain('working on 01-implement.md: part 3/3')
      expect(state.events.filter((e) => e === 'qa_passed')).toHaveLength(3)
      expect(state.events.at(-1)).toBe('protocol_completed')
      expect(seen.filter((s) => s.name === 'qa')).toHaveLength(3)
      expect(seen).toContainEqual({
        name: 'agent',
        labels: { engine: 'command', model: 'default', phase: 'execute', kind: 'prompt' },
        value: 100,
      })
    },
  )

  it.skipIf(unavailable(dialect))('QA FAIL fails the step and blocks the run', async () => {
    root = tempRoot('tgz-jobs-')
    const deps = makeJobDeps(db.handle, root, { agentArgs: ['--qa=FAIL'], autoQa: true })
    const { run } = await seedPlanningRun(db.handle, root, '0002-fail')
    await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'j' }, jobRun())
    let state = await readState(db.handle, run.id)
    const step = state.steps[0]!
    await startStep(db.handle, state.run, step)
    await createExecuteStepHandler(deps)({ step_run_id: step.id, job_id: 'x' }, jobRun())
    state = await readState(db.handle, run.id)
    expect(state.events).toContain('qa_enqueued')
    expect(
      await createRunQualityHandler(deps)({ step_run_id: step.id, job_id: 'q' }, jobRun()),
    ).toMatchObject({ verdict: 'FAIL' })
    state = await readState(db.handle, run.id)
    expect(state.steps[0]!.status).toBe('failed')
    expect(state.run.status).toBe('blocked')
    expect(state.events).toEqual(expect.arrayContaining(['qa_failed', 'run_blocked']))
  })
})
