import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { startStep as startStepAsUser } from '../../../src/app/protocols/start-step.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import {
  approve,
  countOf,
  numberedNames,
  deliverExecution,
  plannedRun,
  queuedExecutions,
  runEvents,
  runQa,
  setPolicy,
} from './policy-fixture.js'
import { readState, startStep } from './protocol-fixture.js'

describe.each(DIALECTS)('loop and trigger policies on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const name = numberedNames()
  const tempRoot = tempDirsPerTest()

  /** Deps whose agent passes QA, and deps whose agent fails it. */
  const agents = (options: { maxTriggerDepth?: number } = {}) => {
    root = tempRoot('tgz-policies-')
    return {
      pass: makeJobDeps(db.handle, root, options),
      fail: makeJobDeps(db.handle, root, { ...options, agentArgs: ['--qa=FAIL'] }),
    }
  }

  /** A user runs the step (step → running), then its execution job runs. */
  const execute = async (deps: ReturnType<typeof agents>['pass'], runId: number, stepId: number) => {
    const { run, steps } = await readState(db.handle, runId)
    await startStep(
      db.handle,
      run,
      steps.find((s) => s.id === stepId)!,
    )
    return createExecuteStepHandler(deps)({ step_run_id: stepId, job_id: 'x' }, jobRun())
  }

  it.skipIf(unavailable(dialect))(
    'a QA failure retries the step (step_back 0) until max_iterations, then blocks the run',
    async () => {
      const { pass, fail } = agents()
      const planned = await plannedRun(db.handle, root, pass, name('loop-limit'))
      const [setup, implement] = planned.steps
      const policy = { module_id: 'again', behavior: 'loop', step_back: 0, max_iterations: 2 }
      await setPolicy(db.handle, implement!.id, [policy])
      await approve(db.handle, setup!.id)
      await execute(pass, planned.run.id, implement!.id)
      expect(await runQa(fail, implement!.id)).toMatchObject({ verdict: 'FAIL' })
      let state = await readState(db.handle, planned.run.id)
      // The loop sent the step straight back to execution: running, with its job in the outbox.
      expect(state.run.status).toBe('running')
      expect(state.steps[1]!.status).toBe('running')
      expect(state.steps[1]!.runtimeState).toMatchObject({
        loop_counts: { again: 1 },
        last_action: 'loop_step_back',
      })
      expect(await deliverExecution(db.handle, pass, implement!.id)).toMatchObject({ outcome: 'needs_qa' })
      await runQa(fail, implement!.id)
      await deliverExecution(db.handle, pass, implement!.id)
      await runQa(fail, implement!.id)
      state = await readState(db.handle, planned.run.id)
      expect(state.run.status).toBe('blocked')
      expect(state.steps.map((s) => s.status)).toEqual(['completed', 'failed', 'pending'])
      expect(state.steps[1]!.runtimeState?.loop_counts).toEqual({ again: 2 })
      expect(countOf(state.events, 'loop_applied')).toBe(2)
      expect(countOf(state.events, 'loop_decision')).toBe(2)
      expect(countOf(state.events, 'loop_limit_reached')).toBe(1)
      expect(state.events.slice(-3)).toEqual(['qa_failed', 'loop_limit_reached', 'run_blocked'])
      const applied = (await runEvents(db.handle, planned.run.id)).find((e) => e.eventType === 'loop_applied')
      expect(applied?.stepRunId).toBe(implement!.id)
      expect(applied?.metadata).toMatchObject({
        module_id: 'again',
        reason: 'qa_failed',
        target_step_index: 1,
        steps_reset: [1, 2],
        iterations: 1,
        max_iterations: 2,
      })
      expect(await queuedExecutions(db.handle, implement!.id)).toHaveLength(2)
    },
  )

  it.skipIf(unavailable(dialect))(
    'steps back over skipped steps, resets the others from the target on, and runs the target next',
    async () => {
      const { pass, fail } = agents()
      const planned = await plannedRun(db.handle, root, pass, name('loop-skip'))
      const [setup, implement, document] = planned.steps
      await setPolicy(db.handle, document!.id, { behavior: 'loop', step_back: 1, skip_steps: [1] })
      await approve(db.handle, setup!.id)
      await approve(db.handle, implement!.id)
      await execute(pass, planned.run.id, document!.id)
      await runQa(fail, document!.id)
      const state = await readState(db.handle, planned.run.id)
      expect(state.steps.map((s) => s.status)).toEqual(['running', 'completed', 'pending'])
      expect(state.steps[0]!.summary).toBe('Looped via loop (1/3)')
      expect(state.run.status).toBe('running')
      expect(await queuedExecutions(db.handle, setup!.id)).toHaveLength(1)
      const applied = (await runEvents(db.handle, planned.run.id)).find((e) => e.eventType === 'loop_applied')
      expect(applied?.metadata).toMatchObject({
        target_step_index: 0,
        steps_reset: [0, 2],
        max_iterations: 3,
      })
      expect(await deliverExecution(db.handle, pass, setup!.id)).toMatchObject({ outcome: 'needs_qa' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'an engine failure with a loop leaves the run running and executes the step again instead of blocking it',
    async () => {
      const { pass } = agents()
      const crash = makeJobDeps(db.handle, root, { agentArgs: ['--exit=3'] })
      const planned = await plannedRun(db.handle, root, pass, name('exec-loop'))
      const setup = planned.steps[0]!
      await setPolicy(db.handle, setup.id, { behavior: 'loop', step_back: 0, condition: 'exec_failed' })
      expect(await execute(crash, planned.run.id, setup.id)).toMatchObject({
        reason: 'step_execution_failed',
      })
      const state = await readState(db.handle, planned.run.id)
      expect(state.run.status).toBe('running')
      expect(state.steps[0]!.status).toBe('running')
      expect(state.events).not.toContain('run_blocked')
      expect(state.events.slice(-3)).toEqual(['step_enqueued', 'loop_applied', 'loop_decision'])
      expect(await deliverExecution(db.handle, pass, setup.id)).toMatchObject({ outcome: 'needs_qa' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a loop whose condition names another reason is skipped with an event, and the run blocks',
    async () => {
      const { pass, fail } = agents()
      const planned = await plannedRun(db.handle, root, pass, name('loop-cond'))
      const setup = planned.steps[0]!
      await setPolicy(db.handle, setup.id, {
        module_id: 'ci-only',
        behavior: 'loop',
        conditions: ['ci_failed'],
      })
      await execute(pass, planned.run.id, setup.id)
      await runQa(fail, setup.id)
      const state = await readState(db.handle, planned.run.id)
      expect(state.events.slice(-3)).toEqual(['qa_failed', 'loop_condition_skipped', 'run_blocked'])
      expect(state.run.status).toBe('blocked')
      expect(state.steps[0]!.status).toBe('failed')
    },
  )

  it.skipIf(unavailable(dialect))(
    'a trigger fires once on QA pass and enqueues its target; missing and completed targets are reported',
    async () => {
      const { pass } = agents()
      const planned = await plannedRun(db.handle, root, pass, name('trigger'))
      const [setup, implement, document] = planned.steps
      await approve(db.handle, implement!.id)
      await setPolicy(db.handle, setup!.id, [
        { module_id: 'ghost', behavior: 'trigger', trigger_agent_id: 'nobody' },
        { module_id: 'done', behavior: 'trigger', trigger_agent_id: 'implement' },
        { module_id: 'docs', behavior: 'trigger', trigger_agent_id: 'document' },
      ])
      await execute(pass, planned.run.id, setup!.id)
      let state = await readState(db.handle, planned.run.id)
      // No condition: the trigger waits for the QA pass instead of firing on execution too, which would run the target twice.
      expect(countOf(state.events, 'trigger_condition_skipped')).toBe(3)
      expect(state.steps[2]!.status).toBe('pending')
      await runQa(pass, setup!.id)
      state = await readState(db.handle, planned.run.id)
      expect(state.events.slice(-5)).toEqual([
        'qa_passed',
        'trigger_missing_target',
        'trigger_skipped',
        'trigger_enqueued',
        'trigger_decision',
      ])
      expect(state.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'running'])
      expect(state.steps[2]!.runtimeState).toMatchObject({
        inline_trigger_depth: 1,
        last_triggered_by: '00-setup.md',
      })
      const events = await runEvents(db.handle, planned.run.id)
      expect(events.find((e) => e.eventType === 'trigger_enqueued')?.stepRunId).toBe(document!.id)
      expect(events.find((e) => e.eventType === 'trigger_skipped')?.metadata).toMatchObject({
        target_status: 'completed',
      })
      expect(await queuedExecutions(db.handle, document!.id)).toHaveLength(1)
      expect(await deliverExecution(db.handle, pass, document!.id)).toMatchObject({ outcome: 'needs_qa' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a self-trigger stops at the depth limit without touching the step; a user retry starts a new chain',
    async () => {
      const { pass, fail } = agents({ maxTriggerDepth: 3 })
      const planned = await plannedRun(db.handle, root, pass, name('depth'))
      const setup = planned.steps[0]!
      const policy = {
        module_id: 'self',
        behavior: 'trigger',
        trigger_agent_id: 'setup',
        condition: 'exec_completed',
      }
      await setPolicy(db.handle, setup.id, policy)
      await execute(pass, planned.run.id, setup.id)
      await deliverExecution(db.handle, pass, setup.id)
      await deliverExecution(db.handle, pass, setup.id)
      let state = await readState(db.handle, planned.run.id)
      expect(countOf(state.events, 'step_completed')).toBe(3)
      expect(countOf(state.events, 'trigger_decision')).toBe(2)
      expect(countOf(state.events, 'trigger_inline_depth_exceeded')).toBe(1)
      expect(state.steps[0]!.status).toBe('needs_qa')
      expect(state.steps[0]!.runtimeState?.inline_trigger_depth).toBe(2)
      expect(await queuedExecutions(db.handle, setup.id)).toHaveLength(2)
      await runQa(fail, setup.id)
      await createUnitOfWork(db.handle.db).run(async (tx) => {
        const run = (await tx.runs.findById(planned.run.id))!
        const step = (await tx.steps.findById(setup.id))!
        const event = { type: 'step_retry_enqueued', message: 'retry' }
        await startStepAsUser(tx, { jobPolicy: { maxAttempts: 3 } }, run, {
          step,
          start: { action: 'retry', event },
          origin: {},
        })
      })
      expect((await readState(db.handle, planned.run.id)).steps[0]!.runtimeState?.inline_trigger_depth).toBe(
        undefined,
      )
      expect(await deliverExecution(db.handle, pass, setup.id)).toMatchObject({ outcome: 'needs_qa' })
      state = await readState(db.handle, planned.run.id)
      expect(countOf(state.events, 'trigger_decision')).toBe(3)
      expect(state.steps[0]!.runtimeState?.inline_trigger_depth).toBe(1)
    },
  )
})
