import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOpenPrHandler } from '../../../src/app/protocol/pr/open-pr.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { startFakeCodeHost } from '../../support/fake-code-host.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedRunOnClone } from './protocol-fixture.js'

type FakeHost = Awaited<ReturnType<typeof startFakeCodeHost>>

const CASES = [
  {
    provider: 'github',
    gitUrl: 'https://github.com/acme/widgets.git',
    repo: 'acme/widgets',
    auth: 'token gh-secret',
  },
  {
    provider: 'gitlab',
    gitUrl: 'https://gitlab.example.com/group/sub/widgets.git',
    repo: 'group/sub/widgets',
    auth: 'gl-secret',
  },
] as const

describe.each(DIALECTS)('open_pr_job on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let host: FakeHost
  let root: string
  beforeAll(async () => {
    host = await startFakeCodeHost()
  })
  afterAll(async () => host.close())
  const tempRoot = tempDirsPerTest()

  it.skipIf(unavailable(dialect)).each(CASES)(
    '$provider: pushes, opens one draft, finds it on retry',
    async (c) => {
      root = tempRoot('tgz-pr-')
      const name = `0001-pr-${c.provider}`
      const { origin, uow, run } = await seedRunOnClone(db.handle, root, {
        project: { name: `pr-${c.provider}-${Date.now()}`, gitUrl: c.gitUrl },
        run: { protocolName: name, status: 'running', description: 'Widgets get a frobnicator' },
      })
      const deps = makeJobDeps(db.handle, root, {
        githubToken: 'gh-secret',
        gitlabToken: 'gl-secret',
        hostUrl: host.url,
      })
      const handler = createOpenPrHandler(deps)
      const first = await handler({ protocol_run_id: run.id, job_id: 'a' }, jobRun())
      expect(first).toMatchObject({ outcome: 'pr_opened', pr_number: expect.any(Number) })
      expect(git(origin, 'branch', '--list', name).trim()).toBe(name)
      const mine = host.prs.filter((pr) => pr.repo === c.repo && pr.head === name)
      expect(mine).toHaveLength(1)
      expect(mine[0]!.draft).toBe(true)
      const auth = host.seen.filter((r) => r.url.includes(c.provider === 'github' ? '/repos/' : '/api/v4/'))
      expect(auth.every((r) => (r.authorization ?? r.privateToken) === c.auth)).toBe(true)
      // Recorded PR: a re-delivery is a no-op.
      expect(await handler({ protocol_run_id: run.id, job_id: 'b' }, jobRun())).toMatchObject({
        skipped: expect.any(String),
      })
      // A retry that lost the record adopts the open PR instead of opening another.
      await uow.run((tx) => tx.runs.update(run.id, { prUrl: null, prNumber: null }))
      expect(await handler({ protocol_run_id: run.id, job_id: 'c' }, jobRun())).toMatchObject({
        outcome: 'pr_exists',
      })
      expect(host.prs.filter((pr) => pr.repo === c.repo && pr.head === name)).toHaveLength(1)
      const state = await readState(db.handle, run.id)
      expect(state.run.prUrl).toBe(mine[0]!.url)
      expect(state.events).toEqual(['pr_opened', 'pr_exists'])
    },
  )
})
