import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../src/app/protocol/planning/plan-protocol.job.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../support/suite-resources.js'
import { git } from '../support/git-repos.js'
import { jobRun, makeJobDeps } from '../support/protocol-jobs.js'
import { readState, seedPlanningRun, startStep } from '../integration/jobs/protocol-fixture.js'

const DROPPING_AGENT = fileURLToPath(new URL('../fixtures/agents/secret-dropping-agent.mjs', import.meta.url))

const LEFT_OUT = [
  { path: '.env', reason: 'environment file' },
  { path: 'big.bin', reason: 'larger than 5242880 bytes' },
  { path: 'certs/server.key', reason: 'key or certificate file' },
  { path: 'config/.env.production', reason: 'environment file' },
  { path: 'id_rsa', reason: 'SSH private key' },
]

describe.each(DIALECTS)('step commits leave credentials out on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect))(
    'does not commit .env, id_rsa, keys or an oversized file the agent created, and the step event names them',
    async () => {
      root = tempRoot('tgz-sec-commit-')
      const { run } = await seedPlanningRun(db.handle, root)
      await createPlanProtocolHandler(makeJobDeps(db.handle, root))(
        { protocol_run_id: run.id, job_id: 'p' },
        jobRun(),
      )
      let state = await readState(db.handle, run.id)
      const step = state.steps[0]!
      await startStep(db.handle, state.run, step)
      const deps = makeJobDeps(db.handle, root, { command: DROPPING_AGENT })
      expect(
        await createExecuteStepHandler(deps)({ step_run_id: step.id, job_id: 'x' }, jobRun()),
      ).toMatchObject({
        outcome: 'needs_qa',
      })
      const worktree = state.run.worktreePath!
      const committed = git(worktree, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n')
      expect(committed).toContain('work/result.txt')
      for (const { path } of LEFT_OUT) expect(committed).not.toContain(path)
      expect(git(worktree, 'log', '-p', '--all')).not.toMatch(/fake-(dotenv|prod|ssh|tls)/)
      // Left in the worktree, unstaged, for a person to look at.
      expect(git(worktree, 'diff', '--cached', '--name-only').trim()).toBe('')
      const events = await createUnitOfWork(db.handle.db).run((tx) =>
        tx.events.list({ protocolRunId: run.id, limit: 500, order: 'asc' }),
      )
      const leftOut = events.find((e) => e.eventType === 'commit_files_left_out')
      expect(leftOut?.stepRunId).toBe(step.id)
      expect(leftOut?.message).toContain('.env (environment file)')
      expect(leftOut?.message).toContain('id_rsa (SSH private key)')
      const listed = leftOut?.metadata?.left_out_of_commit as Array<{ path: string }>
      expect([...listed].sort((a, b) => a.path.localeCompare(b.path))).toEqual(LEFT_OUT)
      const completed = events.filter((e) => e.eventType === 'step_completed').at(-1)
      expect(completed?.metadata?.left_out_of_commit).toEqual(listed)
      expect(JSON.stringify(events)).not.toMatch(/fake-(dotenv|prod|ssh|tls)/)
      state = await readState(db.handle, run.id)
      expect(state.steps[0]!.headSha).toBe(git(worktree, 'rev-parse', 'HEAD').trim())
    },
  )
})
