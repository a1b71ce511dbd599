import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { Repositories, UnitOfWork } from '../../src/app/ports.js'
import { reopenForFollowup } from '../../src/app/reviews/reopen-for-followup.js'
import { changeRunStatus, changeStepStatus } from '../../src/app/state-changes.js'
import { maybeCompleteProtocol } from '../../src/app/steps/complete-protocol.js'
import { applyCiNotice } from '../../src/app/webhooks/apply-ci-notice.js'
import { moveStep } from '../../src/app/protocol/execution/step-outcomes.js'
import { startStep } from '../../src/app/protocols/start-step.js'
import { acquireRunLease } from '../../src/app/runs/run-lease.js'
import { AWAITING_WORKTREE, startWaitingStep } from '../../src/app/runs/worktree-wait.js'
import { checkSuiteResult } from '../support/ci-notices.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import type { StepRun } from '../../src/domain/step-run.js'
import { openMigratedDatabase, unavailable, untilLockWaiter } from '../support/databases.js'
import { seedProject, seedRun, seedStep } from '../support/fixtures.js'

// Whether a run is closed is decided over all of its steps, while other transactions move them.
// SQLite's transactions run one at a time; on Postgres these interleavings are real: two steps
// approved at once, or a CI failure reopening a completed step while the last one is approved.

/** Long enough for the other transaction to read and write all it would before this one commits. */
const WINDOW_MS = 300

/** A promise resolved from outside, to order two transactions' steps. */
const signal = () => {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

/** As the approve action does it, without its own transaction. */
const approve = async (tx: Repositories, run: ProtocolRun, step: StepRun) => {
  const event = { type: 'manual_approval', message: 'Step marked as completed manually.' }
  await changeStepStatus(tx, run, step, { action: 'approve', event, origin: {} })
  await maybeCompleteProtocol(tx, run.id, {})
}

describe.skipIf(unavailable('postgres'))('closing a run while its steps move (postgres)', () => {
  let handle: DatabaseHandle
  let close: () => Promise<void>
  let repos: Repositories
  let uow: UnitOfWork

  beforeAll(async () => {
    ;({ handle, close } = await openMigratedDatabase('postgres'))
    repos = createRepositories(handle.db)
    uow = createUnitOfWork(handle.db)
  })
  afterAll(() => close())

  /** Sessions waiting on a lock, counted on a connection of the pool outside any transaction. */
  const lockWaiters = async (statement: string) =>
    Number((await sql<{ waiting: string }>`${sql.raw(statement)}`.execute(handle.db)).rows[0]?.waiting)

  const runWithSteps = async (runStatus: ProtocolRun['status'], ...statuses: StepRun['status'][]) => {
    const project = await seedProject(repos)
    const run = await seedRun(repos, project.id, runStatus)
    const steps: StepRun[] = []
    for (const [index, status] of statuses.entries()) steps.push(await seedStep(repos, run.id, status, index))
    return { run, steps }
  }

  it('the last two steps approved at once close the run', async () => {
    const { run, steps } = await runWithSteps('running', 'needs_qa', 'needs_qa')
    const [first, second] = steps as [StepRun, StepRun]
    const secondMoved = signal()
    const firstChecked = signal()
    let other: Promise<void> = Promise.resolve()
    await uow.run(async (tx) => {
      await changeStepStatus(tx, run, first, {
        action: 'approve',
        event: { type: 'manual_approval', message: 'approved' },
        origin: {},
      })
      other = uow.run(async (otherTx) => {
        await changeStepStatus(otherTx, run, second, {
          action: 'approve',
          event: { type: 'manual_approval', message: 'approved' },
          origin: {},
        })
        secondMoved.resolve()
        await firstChecked.promise
        await maybeCompleteProtocol(otherTx, run.id, {})
      })
      await secondMoved.promise
      // Sees the other step still awaiting QA: that transaction has not committed.
      await maybeCompleteProtocol(tx, run.id, {})
      firstChecked.resolve()
      await sleep(WINDOW_MS)
    })
    await other
    expect((await repos.runs.findById(run.id))?.status).toBe('completed')
    const closed = await repos.events.list({
      protocolRunId: run.id,
      limit: 50,
      eventType: 'protocol_completed',
    })
    expect(closed).toHaveLength(1)
  })

  it('a CI failure reopening a completed step while the last one is approved keeps the run open', async () => {
    const { run, steps } = await runWithSteps('blocked', 'completed', 'needs_qa')
    const [done, last] = steps as [StepRun, StepRun]
    const sha = 'a'.repeat(40)
    await repos.steps.update(done.id, { headSha: sha })
    const ciApplied = signal()
    const approved = signal()
    const ci = uow.run(async (tx) => {
      const deps = { jobPolicy: { maxAttempts: 3 }, autoQaOnCi: false, maxInlineTriggerDepth: 3 }
      await applyCiNotice(tx, deps, run, checkSuiteResult(sha, 'failure'), {})
      ciApplied.resolve()
      // Without a lock the approval completes meanwhile; with it, it waits for this commit.
      await Promise.race([approved.promise, sleep(WINDOW_MS)])
    })
    await ciApplied.promise
    await uow.run((tx) => approve(tx, run, last))
    approved.resolve()
    await ci
    const stored = await repos.steps.listByRun(run.id)
    expect(stored.map((step) => step.status)).toEqual(['failed', 'completed'])
    expect((await repos.runs.findById(run.id))?.status).toBe('blocked')
  })

  it('a follow-up re-opening a completed step while the last one is approved keeps the run open', async () => {
    const { run, steps } = await runWithSteps('running', 'completed', 'needs_qa')
    const [done, last] = steps as [StepRun, StepRun]
    const reopened = signal()
    const approved = signal()
    const followup = uow.run(async (tx) => {
      const state = { review_feedback: 'please rename' }
      await reopenForFollowup(
        tx,
        { run, step: done, state, reason: 'review comments' },
        { maxAttempts: 3 },
        {},
      )
      reopened.resolve()
      await Promise.race([approved.promise, sleep(WINDOW_MS)])
    })
    await reopened.promise
    await uow.run((tx) => approve(tx, run, last))
    approved.resolve()
    await followup
    const stored = await repos.steps.listByRun(run.id)
    expect(stored.map((step) => step.status)).toEqual(['running', 'completed'])
    expect((await repos.runs.findById(run.id))?.status).toBe('running')
  })

  it('a CI failure arriving after the run closed changes nothing', async () => {
    const { run, steps } = await runWithSteps('blocked', 'completed', 'needs_qa')
    const [done, last] = steps as [StepRun, StepRun]
    const sha = 'b'.repeat(40)
    await repos.steps.update(done.id, { headSha: sha })
    const approvedUncommitted = signal()
    const approval = uow.run(async (tx) => {
      await approve(tx, run, last)
      approvedUncommitted.resolve()
      await sleep(WINDOW_MS)
    })
    await approvedUncommitted.promise
    // Read before the approval commits, as a webhook correlating the run would have read it.
    const deps = { jobPolicy: { maxAttempts: 3 }, autoQaOnCi: false, maxInlineTriggerDepth: 3 }
    await uow.run((tx) => applyCiNotice(tx, deps, run, checkSuiteResult(sha, 'failure'), {}))
    await approval
    const stored = await repos.steps.listByRun(run.id)
    expect(stored.map((step) => step.status)).toEqual(['completed', 'completed'])
    expect((await repos.runs.findById(run.id))?.status).toBe('completed')
    const ignored = await repos.events.list({
      protocolRunId: run.id,
      limit: 50,
      eventType: 'ci_result_ignored',
    })
    expect(ignored).toHaveLength(1)
  })

  /**
   * A user's start of `step` while `job`'s transaction is paused where it calls `pause`: the start
   * begins once the job is there, and the job goes on once the start waits on a lock. The start's
   * error, or undefined when it started.
   */
  const userStartWhile = async (
    run: ProtocolRun,
    step: StepRun,
    action: 'run' | 'retry',
    job: (tx: Repositories, pause: () => Promise<void>) => Promise<void>,
  ): Promise<unknown> => {
    const paused = signal()
    const goOn = signal()
    const jobDone = uow.run((tx) =>
      job(tx, () => {
        paused.resolve()
        return goOn.promise
      }),
    )
    await paused.promise
    const start = { action, event: { type: 'step_started', message: 'started' } }
    const user = uow
      .run((tx) => startStep(tx, { jobPolicy: { maxAttempts: 3 } }, run, { step, start, origin: {} }))
      .then(
        () => undefined,
        (error: unknown) => error,
      )
    await untilLockWaiter(lockWaiters)
    goOn.resolve()
    await jobDone
    return user
  }

  it("a user's start unblocking a run while a job there dispatches a step is refused as busy, not deadlocked", async () => {
    // Blocked by another step's CI failure while this one was under QA.
    const { run, steps } = await runWithSteps('blocked', 'needs_qa', 'pending', 'pending')
    const [judged, next, other] = steps as [StepRun, StepRun, StepRun]
    const refusal = await userStartWhile(run, other, 'run', async (tx, pause) => {
      // A QA pass: the step's move locks the run; its success trigger then takes the worktree.
      await moveStep(tx, judged.id, 'complete', {
        event: { type: 'qa_passed', message: 'passed' },
        origin: {},
      })
      await pause()
      const want = { protocolRunId: run.id, stepRunId: next.id, jobId: 'exec-next' }
      expect(await acquireRunLease(tx, want)).toEqual({ acquired: true })
      await tx.steps.compareAndSetStatus(next.id, ['pending'], 'running')
    })
    expect(refusal).toMatchObject({ code: 'ORC_RUN_BUSY', details: { running_step_id: next.id } })
    expect((await repos.steps.findById(other.id))?.status).toBe('pending')
  })

  it("a user's retry while a waiting step's job takes the worktree of a blocked run is refused as busy", async () => {
    const { run, steps } = await runWithSteps('blocked', 'failed', 'pending')
    const [failed, waiting] = steps as [StepRun, StepRun]
    const jobId = 'exec-waiting'
    await repos.steps.mergeRuntimeState(waiting.id, { job_id: jobId, [AWAITING_WORKTREE]: failed.id })
    const step = (await repos.steps.findById(waiting.id))!
    const refusal = await userStartWhile(run, failed, 'retry', async (tx, pause) => {
      // As claimStep does: the worktree first, then the run the step starts again.
      expect(await startWaitingStep(tx, { run, step, jobId }, {})).toHaveProperty('started')
      await pause()
      const event = { type: 'protocol_running', message: 'Step execution started the run.' }
      await changeRunStatus(tx, run, 'run', { event, origin: {} })
    })
    expect(refusal).toMatchObject({ code: 'ORC_RUN_BUSY', details: { running_step_id: waiting.id } })
  })
})
