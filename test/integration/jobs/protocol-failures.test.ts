import { mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { PermanentJobError } from '../../../src/app/queue-runtime/job-handler.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import type { Config } from '../../../src/config.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git } from '../../support/git-repos.js'
import { waitForExit, waitForPids } from '../../support/processes.js'
import { jobRun, makeJobDeps, type JobDepsOptions } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun, startStep } from './protocol-fixture.js'

const budgets = (mode: Config['budgets']['mode'], step?: number, protocol?: number): Config['budgets'] => ({
  maxTokensPerStep: step,
  maxTokensPerProtocol: protocol,
  mode,
})

describe.each(DIALECTS)('protocol job failures on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** Plans a run with the good agent, starts its first step; returns what executing needs. */
  const plannedStep = async (name: string, tokensUsed = 0) => {
    root = tempRoot('tgz-jobs-')
    const { run } = await seedPlanningRun(db.handle, root, name)
    await createPlanProtocolHandler(makeJobDeps(db.handle, root))(
      { protocol_run_id: run.id, job_id: 'p' },
      jobRun(),
    )
    await createUnitOfWork(db.handle.db).run((tx) => tx.runs.update(run.id, { tokensUsed }))
    const state = await readState(db.handle, run.id)
    const step = await startStep(db.handle, state.run, state.steps[1]!)
    const execute = (options: JobDepsOptions, signal?: AbortSignal) =>
      createExecuteStepHandler(makeJobDeps(db.handle, root, options))(
        { step_run_id: step.id, job_id: 'e' },
        jobRun(signal),
      )
    return { run, step, execute }
  }

  it.skipIf(unavailable(dialect))('retries a bad planning answer once, then blocks the run', async () => {
    root = tempRoot('tgz-jobs-')
    const once = await seedPlanningRun(db.handle, root, '0003-once')
    const deps = makeJobDeps(db.handle, root, { agentArgs: ['--plan=bad-once'] })
    expect(
      await createPlanProtocolHandler(deps)({ protocol_run_id: once.run.id, job_id: 'p' }, jobRun()),
    ).toMatchObject({
      outcome: 'planned',
    })
    const bad = await createUnitOfWork(db.handle.db).run((tx) =>
      tx.runs.create({
        projectId: once.project.id,
        protocolName: '0004-bad',
        status: 'planning',
        baseBranch: 'main',
      }),
    )
    const badDeps = makeJobDeps(db.handle, root, { agentArgs: ['--plan=bad'] })
    expect(
      await createPlanProtocolHandler(badDeps)({ protocol_run_id: bad.id, job_id: 'p' }, jobRun()),
    ).toEqual({
      outcome: 'blocked',
      reason: 'planning_failed',
    })
    const state = await readState(db.handle, bad.id)
    expect(state.run.status).toBe('blocked')
    expect(state.steps).toHaveLength(0)
    expect(state.events).toContain('planning_failed')
  })

  it.skipIf(unavailable(dialect))(
    'strict per-step budget refuses: step failed, run blocked, permanent error',
    async () => {
      const { run, execute } = await plannedStep('0005-strict')
      await expect(execute({ budgets: budgets('strict', 10) })).rejects.toBeInstanceOf(PermanentJobError)
      const state = await readState(db.handle, run.id)
      expect(state.steps[1]!.status).toBe('failed')
      expect(state.run.status).toBe('blocked')
      expect(state.events).toContain('budget_exceeded')
    },
  )

  it.skipIf(unavailable(dialect))('strict cumulative budget counts what the run already used', async () => {
    const { run, execute } = await plannedStep('0006-cumulative', 5_000)
    await expect(execute({ budgets: budgets('strict', undefined, 5_100) })).rejects.toThrow(
      /over its limit \(5100\)/,
    )
    expect((await readState(db.handle, run.id)).run.status).toBe('blocked')
  })

  it.skipIf(unavailable(dialect))(
    'warn lets the call through with an event; off checks nothing',
    async () => {
      const warned = await plannedStep('0007-warn')
      expect(await warned.execute({ budgets: budgets('warn', 10) })).toMatchObject({ outcome: 'needs_qa' })
      expect((await readState(db.handle, warned.run.id)).events).toContain('budget_warning')
      const off = await plannedStep('0008-off')
      expect(await off.execute({ budgets: budgets('off', 10, 10) })).toMatchObject({ outcome: 'needs_qa' })
      expect((await readState(db.handle, off.run.id)).events).not.toContain('budget_warning')
    },
  )

  it.skipIf(unavailable(dialect))(
    'a missing engine binary fails the step with engine_unavailable naming it',
    async () => {
      const { run, execute } = await plannedStep('0009-missing')
      expect(await execute({ command: '/nonexistent/agent-cli' })).toEqual({
        outcome: 'failed',
        reason: 'engine_unavailable',
      })
      const state = await readState(db.handle, run.id)
      expect(state.steps[1]!.status).toBe('failed')
      expect(state.steps[1]!.summary).toContain('/nonexistent/agent-cli')
      expect(state.run.status).toBe('blocked')
      expect(state.events).toEqual(expect.arrayContaining(['engine_unavailable', 'run_blocked']))
    },
  )

  it.skipIf(unavailable(dialect))('cancellation through the signal kills the agent within 2 s', async () => {
    const { execute } = await plannedStep('0010-cancel')
    const pidfile = join(root, 'agent.pid')
    const controller = new AbortController()
    const pending = execute({ agentArgs: ['--sleep=30000', `--pidfile=${pidfile}`] }, controller.signal)
    const [pid] = await waitForPids(pidfile, 1)
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ORC_ENGINE_CANCELLED' })
    expect(await waitForExit([pid!], 2_000)).toEqual([])
  })
})

describe.each(DIALECTS)('protocol files behind a symlink of the repository on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))(
    'refuses to plan into a committed `.protocols` link that leads outside the worktree',
    async () => {
      root = tempRoot('tgz-jobs-')
      const outside = join(root, 'outside')
      mkdirSync(outside)
      const { run, repo } = await seedPlanningRun(db.handle, root, '0009-linked')
      symlinkSync(outside, join(repo, '.protocols'))
      git(repo, 'add', '.protocols')
      git(repo, 'commit', '-q', '-m', 'link protocols out')
      const plan = createPlanProtocolHandler(makeJobDeps(db.handle, root))
      await expect(plan({ protocol_run_id: run.id, job_id: 'p' }, jobRun())).rejects.toThrow(/outside/)
      expect(readdirSync(outside)).toEqual([])
    },
  )
})
