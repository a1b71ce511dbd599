import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import { makeRetryLatest, makeRunNextStep } from '../../../src/app/protocols/protocol-actions.js'
import { applyCiNotice } from '../../../src/app/webhooks/apply-ci-notice.js'
import { githubNotice } from '../../../src/domain/github-notice.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun } from './protocol-fixture.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))

describe.each(DIALECTS)('retry prompts on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let root: string
  const tempRoot = tempDirsPerTest()

  /** The prompts the agent was given, oldest first, for one phase. */
  const prompts = (dir: string, phase: string): string[] =>
    readdirSync(dir)
      .filter((name) => name.endsWith(`-${phase}.txt`))
      .sort()
      .map((name) => readFileSync(join(dir, name), 'utf8'))

  it.skipIf(unavailable(dialect))(
    'tells the next attempt what CI and QA found wrong, and only about the commit it stands on',
    async () => {
      root = tempRoot('tgz-retry-')
      const record = join(root, 'prompts')
      const deps = (...extra: string[]) =>
        makeJobDeps(db.handle, root, {
          command: RECORDING_AGENT,
          agentArgs: [`--record=${record}`, ...extra],
        })
      const uow = createUnitOfWork(db.handle.db)
      const actions = { uow, jobPolicy: { maxAttempts: 3 }, abortRun: async () => undefined }
      const { run } = await seedPlanningRun(db.handle, root, '0001-retry')
      await createPlanProtocolHandler(deps())({ protocol_run_id: run.id, job_id: 'p' }, jobRun())
      const execute = async (action: 'run_next_step' | 'retry_latest') => {
        const start = action === 'run_next_step' ? makeRunNextStep(actions) : makeRetryLatest(actions)
        const { job } = await start(run.id, {})
        return createExecuteStepHandler(deps())(
          { step_run_id: job!.stepRunId!, job_id: job!.id },
          jobRun(undefined, job!.id),
        )
      }

      // Attempt 1: executed, then CI fails on its commit.
      expect(await execute('run_next_step')).toMatchObject({ outcome: 'needs_qa' })
      let state = await readState(db.handle, run.id)
      const step = state.steps[0]!
      const firstHead = step.headSha!
      expect(prompts(record, 'execute')[0]).not.toContain('previous attempt')
      const notice = githubNotice('workflow_run', {
        workflow_run: {
          name: 'unit tests',
          conclusion: 'failure',
          html_url: 'https://ci.example/run/77',
          head_branch: '0001-retry',
          head_sha: firstHead,
        },
        log_excerpt: 'FAIL test/add.test.ts\n  expected 3, got 4',
      })
      await uow.run(async (tx) =>
        applyCiNotice(
          tx,
          { jobPolicy: { maxAttempts: 3 }, autoQaOnCi: false, maxInlineTriggerDepth: 3 },
          (await tx.runs.findById(run.id))!,
          notice,
          {},
        ),
      )
      state = await readState(db.handle, run.id)
      expect(state.steps[0]!.status).toBe('failed')

      // Attempt 2 (retry_latest): the prompt carries the CI failure; then QA fails it.
      expect(await execute('retry_latest')).toMatchObject({ outcome: 'needs_qa' })
      const second = prompts(record, 'execute')[1]!
      expect(second).toContain('## CI failure on the previous attempt')
      expect(second).toContain('- Workflow: unit tests')
      expect(second).toContain('- Conclusion: failure')
      expect(second).toContain('- URL: https://ci.example/run/77')
      expect(second).toContain('expected 3, got 4')
      expect(second).not.toContain('QA report on the previous attempt')
      const report = 'Blocking: add() still returns 4 for 1 + 2.'
      expect(
        await createRunQualityHandler(deps('--qa=FAIL', `--qa-report=${report}`))(
          { step_run_id: step.id, job_id: 'q' },
          jobRun(),
        ),
      ).toMatchObject({ verdict: 'FAIL' })
      state = await readState(db.handle, run.id)
      expect(state.run.status).toBe('blocked')
      expect(state.steps[0]!.headSha).not.toBe(firstHead)

      // Attempt 3: the QA report is there; the CI failure, about attempt 1's commit, is not.
      expect(await execute('retry_latest')).toMatchObject({ outcome: 'needs_qa' })
      const third = prompts(record, 'execute')[2]!
      expect(third).toContain('## QA report on the previous attempt (verdict FAIL)')
      expect(third).toContain(report)
      expect(third).toContain('VERDICT: FAIL')
      expect(third).not.toContain('expected 3, got 4')
      expect((await readState(db.handle, run.id)).steps[0]!.retries).toBe(2)
    },
  )
})
