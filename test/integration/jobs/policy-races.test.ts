import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { stepLogPath } from '../../../src/app/protocol/execution/engine-call.js'
import type { ProtocolJobDeps } from '../../../src/app/protocol/protocol-job-deps.js'
import { makeCancelProtocol, makePauseProtocol } from '../../../src/app/protocols/protocol-actions.js'
import { applyCiNotice } from '../../../src/app/webhooks/apply-ci-notice.js'
import { changeStepStatus } from '../../../src/app/state-changes.js'
import type { CiNotice } from '../../../src/domain/ci-notice.js'
import { checkSuiteResult } from '../../support/ci-notices.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun } from '../../support/protocol-jobs.js'
import {
  deliverExecution,
  executedStepWithPolicy,
  numberedNames,
  queuedExecutions,
  runQa,
  setPolicy,
} from './policy-fixture.js'
import { readState, startStep } from './protocol-fixture.js'

const LOOP = { module_id: 'again', behavior: 'loop', step_back: 1, max_iterations: 3 }

/** Applies a CI result to the run as the webhook would, in one transaction. */
const deliverCi = (handle: DatabaseHandle, runId: number, notice: CiNotice) =>
  createUnitOfWork(handle.db).run(async (tx) => {
    const run = (await tx.runs.findById(runId))!
    const deps = { jobPolicy: { maxAttempts: 3 }, autoQaOnCi: false, maxInlineTriggerDepth: 3 }
    await applyCiNotice(tx, deps, run, notice, {})
  })

describe.each(DIALECTS)('policies against cancels and CI on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const name = numberedNames()
  const tempRoot = tempDirsPerTest()

  const cancel = (runId: number) =>
    makeCancelProtocol({
      uow: createUnitOfWork(db.handle.db),
      jobPolicy: { maxAttempts: 3 },
      abortRun: async () => undefined,
    })(runId, {})

  /** A planned run whose step 01 loops back on failure and has been executed (awaiting QA). */
  const loopingRun = (label: string, qaArgs: readonly string[]) => {
    root = tempRoot('tgz-policy-races-')
    return executedStepWithPolicy(db.handle, root, { name: name(label), policy: LOOP, qaArgs })
  }

  /** Nothing of a cancelled run may be waiting or working again. */
  const expectNothingResurrected = async (runId: number) => {
    const state = await readState(db.handle, runId)
    expect(state.run.status).toBe('cancelled')
    expect(state.steps.filter((s) => ['pending', 'running', 'needs_qa'].includes(s.status))).toEqual([])
    for (const step of state.steps) expect(await queuedExecutions(db.handle, step.id)).toEqual([])
    return state
  }

  it.skipIf(unavailable(dialect))(
    'a cancel committed while QA runs wins: the FAIL verdict loops nothing back',
    async () => {
      const { qa, runId, implement } = await loopingRun('cancel-first', ['--qa=FAIL', '--sleep=1500'])
      const verdict = runQa(qa, implement.id)
      await agentStarted(qa, implement.id, 'demo-agent: qa')
      await cancel(runId)
      expect(await verdict).toMatchObject({ verdict: 'FAIL' })
      const state = await expectNothingResurrected(runId)
      // The verdict judged a step that is cancelled now: recorded, and nothing moves.
      expect(state.events).toContain('qa_verdict_discarded')
      expect(state.events).not.toContain('loop_applied')
    },
  )

  it.skipIf(unavailable(dialect))(
    'a PASS for a head the step has since moved past is discarded: the new head still awaits QA',
    async () => {
      const { qa, runId, implement } = await loopingRun('rerun-first', ['--qa=PASS', '--sleep=1500'])
      const judged = (await readState(db.handle, runId)).steps[1]!.headSha
      const verdict = runQa(qa, implement.id)
      await agentStarted(qa, implement.id, 'demo-agent: qa')
      // Executed again meanwhile (a loop or a retry): back in needs_qa, with another commit.
      const newHead = 'f'.repeat(40)
      await createUnitOfWork(db.handle.db).run((tx) => tx.steps.update(implement.id, { headSha: newHead }))
      expect(await verdict).toMatchObject({ verdict: 'PASS' })
      const state = await readState(db.handle, runId)
      expect(state.steps[1]).toMatchObject({ status: 'needs_qa', headSha: newHead })
      expect(state.events).toContain('qa_verdict_discarded')
      const events = await createUnitOfWork(db.handle.db).run((tx) =>
        tx.events.list({ protocolRunId: runId, limit: 500, eventType: 'qa_verdict_discarded' }),
      )
      expect(events[0]?.message).toContain('executed again')
      expect(events[0]?.metadata).toMatchObject({ judged_head_sha: judged })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a pause committed while QA runs keeps the run paused: no loop, no block, policies_skipped',
    async () => {
      const { qa, runId, implement } = await loopingRun('pause-first', ['--qa=FAIL', '--sleep=1500'])
      const verdict = runQa(qa, implement.id)
      await agentStarted(qa, implement.id, 'demo-agent: qa')
      await makePauseProtocol({
        uow: createUnitOfWork(db.handle.db),
        jobPolicy: { maxAttempts: 3 },
        abortRun: async () => undefined,
      })(runId, {})
      await verdict
      const state = await readState(db.handle, runId)
      expect(state.run.status).toBe('paused')
      expect(state.steps.map((s) => s.status)).toEqual(['completed', 'failed', 'pending'])
      expect(state.events).toContain('policies_skipped')
      expect(state.events).not.toContain('loop_applied')
      expect(await queuedExecutions(db.handle, state.steps[0]!.id)).toEqual([])
    },
  )

  it.skipIf(unavailable(dialect))(
    'a CI pass that completes a step fires its trigger (reason ci_passed)',
    async () => {
      const { qa, runId, implement } = await loopingRun('ci-trigger', ['--qa=PASS'])
      await setPolicy(db.handle, implement.id, {
        module_id: 'docs',
        behavior: 'trigger',
        trigger_agent_id: 'document',
      })
      const before = await readState(db.handle, runId)
      expect(before.steps[1]!.status).toBe('needs_qa')
      await deliverCi(db.handle, runId, checkSuiteResult(before.steps[1]!.headSha!, 'success'))
      const state = await readState(db.handle, runId)
      expect(state.steps.map((s) => s.status)).toEqual(['completed', 'completed', 'running'])
      expect(state.events.slice(-3)).toEqual(['ci_passed', 'trigger_enqueued', 'trigger_decision'])
      expect(await deliverExecution(db.handle, qa, state.steps[2]!.id)).toMatchObject({ outcome: 'needs_qa' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a cancel after the loop applied cancels the reset steps and the enqueued execution',
    async () => {
      const { pass, qa, runId, setup } = await loopingRun('loop-first', ['--qa=FAIL'])
      const implement = (await readState(db.handle, runId)).steps[1]!
      await runQa(qa, implement.id)
      expect((await readState(db.handle, runId)).steps[0]!.status).toBe('running')
      await cancel(runId)
      await expectNothingResurrected(runId)
      // A delivery of the cancelled job that raced the cancel does nothing either.
      const late = createExecuteStepHandler(pass)({ step_run_id: setup.id, job_id: 'late' }, jobRun())
      expect(await late).toMatchObject({ skipped: 'step is cancelled' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a CI failure on a looping step sends the run back instead of blocking it (reason ci_failed)',
    async () => {
      const { qa, runId, implement } = await loopingRun('ci-loop', ['--qa=PASS'])
      await runQa(qa, implement.id)
      const before = await readState(db.handle, runId)
      expect(before.steps[1]!.status).toBe('completed')
      await deliverCi(db.handle, runId, checkSuiteResult(before.steps[1]!.headSha!, 'failure'))
      const state = await readState(db.handle, runId)
      expect(state.run.status).toBe('running')
      expect(state.steps.map((s) => s.status)).toEqual(['running', 'pending', 'pending'])
      expect(state.events.slice(-2)).toEqual(['loop_applied', 'loop_decision'])
      expect(state.steps[1]!.runtimeState).toMatchObject({
        ci_failure: { provider: 'github' },
        loop_counts: { again: 1 },
      })
      expect(await deliverExecution(db.handle, qa, state.steps[0]!.id)).toMatchObject({ outcome: 'needs_qa' })
    },
  )
})

describe.each(DIALECTS)('policies and verdicts against other work of the run on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const name = numberedNames()
  const tempRoot = tempDirsPerTest()

  const executedStep1 = (label: string, qaArgs: readonly string[]) => {
    root = tempRoot('tgz-policy-busy-')
    return executedStepWithPolicy(db.handle, root, { name: name(label), policy: LOOP, qaArgs })
  }

  it.skipIf(unavailable(dialect))(
    'a CI failure for an earlier step while a later one runs sends no second agent into the worktree',
    async () => {
      const { qa, runId, implement } = await executedStep1('busy-ci', ['--qa=PASS'])
      await runQa(qa, implement.id)
      const mid = await readState(db.handle, runId)
      await startStep(db.handle, mid.run, mid.steps[2]!)
      await deliverCi(db.handle, runId, checkSuiteResult(mid.steps[1]!.headSha!, 'failure'))
      const state = await readState(db.handle, runId)
      expect(state.steps.map((s) => s.status)).toEqual(['completed', 'failed', 'running'])
      expect(state.events).toContain('policies_skipped')
      expect(state.events).not.toContain('loop_applied')
      for (const step of state.steps.slice(0, 2))
        expect(await queuedExecutions(db.handle, step.id)).toEqual([])
    },
  )

  it.skipIf(unavailable(dialect))(
    'a QA verdict for a step that was sent back and started again meanwhile moves nothing',
    async () => {
      const { qa, runId, implement } = await executedStep1('stale-verdict', ['--qa=PASS', '--sleep=1500'])
      const verdict = runQa(qa, implement.id)
      await agentStarted(qa, implement.id, 'demo-agent: qa')
      await createUnitOfWork(db.handle.db).run(async (tx) => {
        const run = (await tx.runs.findById(runId))!
        const step = (await tx.steps.findById(implement.id))!
        const reset = await changeStepStatus(tx, run, step, {
          action: 'reset',
          event: { type: 'step_reset', message: 'test' },
          origin: {},
        })
        await changeStepStatus(tx, run, reset, {
          action: 'run',
          event: { type: 'step_started', message: 'test' },
          origin: {},
        })
      })
      await verdict
      const state = await readState(db.handle, runId)
      expect(state.steps[1]!.status).toBe('running')
      expect(state.events).toContain('qa_verdict_discarded')
      expect(state.events).not.toContain('qa_passed')
    },
  )
})

/** Waits until the step's log shows the agent running (it streams there as it works). */
const agentStarted = async (deps: ProtocolJobDeps, stepId: number, text: string) => {
  const path = stepLogPath(deps, stepId)
  for (let i = 0; i < 200; i++) {
    if (existsSync(path) && readFileSync(path, 'utf8').split(text).length > 1) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`agent never wrote "${text}" to ${path}`)
}
