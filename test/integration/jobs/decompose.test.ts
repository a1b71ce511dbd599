import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps, type JobDepsOptions } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun } from './protocol-fixture.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))

describe.each(DIALECTS)('planning decomposition on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** Plans a run with the recording planner; returns the prompts it got and where things are. */
  const plan = async (name: string, options: JobDepsOptions) => {
    root = tempRoot('tgz-decompose-')
    const record = join(root, 'prompts')
    const { run } = await seedPlanningRun(db.handle, root, name)
    const deps = makeJobDeps(db.handle, root, {
      command: RECORDING_AGENT,
      agentArgs: [`--record=${record}`],
      ...options,
    })
    const outcome = await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
    const state = await readState(db.handle, run.id)
    const prompts = readdirSync(record)
      .sort()
      .map((file) => readFileSync(join(record, file), 'utf8'))
    const events = await createUnitOfWork(db.handle.db).run((tx) =>
      tx.events.list({ protocolRunId: run.id, limit: 50, order: 'asc' }),
    )
    const planned = events.find((e) => e.eventType === 'planned')
    const worktree = state.run.worktreePath!
    return { outcome, state, prompts, planned, worktree, protocolRoot: join(worktree, '.protocols', name) }
  }

  it.skipIf(unavailable(dialect))(
    'refines the numbered step files in order and leaves setup, plan, context and log as planned',
    async () => {
      const { outcome, state, prompts, planned, worktree, protocolRoot } = await plan('0001-refine', {
        decomposeSteps: true,
      })
      expect(outcome).toMatchObject({ outcome: 'planned' })
      expect(state.steps.map((s) => s.stepName)).toEqual(['00-setup.md', '01-build.md', '02-polish.md'])
      const decompose = prompts.slice(1)
      expect(decompose).toHaveLength(2)
      expect(decompose[0]).toContain('Step file: 01-build.md')
      expect(decompose[0]).toContain('- Build the feature.')
      expect(decompose[0]).toContain('1. Setup\n2. Build\n3. Polish')
      expect(decompose[1]).toContain('Step file: 02-polish.md')
      const read = (file: string) => readFileSync(join(protocolRoot, file), 'utf8')
      expect(read('01-build.md')).toBe(
        '# Refined 01-build.md\n\n1. First sub-task of 01-build.md.\n2. Second sub-task of 01-build.md.\n',
      )
      expect(read('02-polish.md')).toContain('# Refined 02-polish.md')
      expect(read('00-setup.md')).toBe('# Setup\n\n- Install dependencies.\n')
      expect(read('plan.md')).toBe('# Plan\n\n1. Setup\n2. Build\n3. Polish\n')
      expect(read('context.md')).toBe('# Context\n\nRecorded.\n')
      expect(read('log.md')).toBe('# Log\n')
      // The plan commit holds the refined files.
      expect(git(worktree, 'show', 'HEAD:.protocols/0001-refine/01-build.md')).toContain('# Refined')
      expect(planned?.metadata).toMatchObject({
        decompose: { refined: ['01-build.md', '02-polish.md'], kept: [] },
      })
    },
  )

  it.skipIf(unavailable(dialect))('skips simple steps when asked to, and is off by default', async () => {
    const simple = await plan('0002-simple', { decomposeSteps: true, skipSimpleDecompose: true })
    expect(simple.prompts).toHaveLength(1)
    expect(simple.planned?.metadata).toMatchObject({
      decompose: {
        refined: [],
        kept: [
          { file: '01-build.md', reason: 'simple step' },
          { file: '02-polish.md', reason: 'simple step' },
        ],
      },
    })
    const off = await plan('0003-off', {})
    expect(off.prompts).toHaveLength(1)
    expect(readFileSync(join(off.protocolRoot, '01-build.md'), 'utf8')).toBe(
      '# Build\n\n- Build the feature.\n',
    )
    expect(off.planned?.metadata).not.toHaveProperty('decompose')
  })
})
