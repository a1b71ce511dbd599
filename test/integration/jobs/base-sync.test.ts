import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createOpenPrHandler } from '../../../src/app/protocol/pr/open-pr.job.js'
import { createBaseSyncHandler } from '../../../src/app/protocol-merge/base-sync.job.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { migratedDatabasePerSuite, tempDirsPerTest } from '../../support/suite-resources.js'
import { startFakeCodeHost } from '../../support/fake-code-host.js'
import { git } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { seedRunOnClone } from './protocol-fixture.js'

type FakeHost = Awaited<ReturnType<typeof startFakeCodeHost>>

describe.each(DIALECTS)('base branch moves, on %s', (dialect) => {
  const db = migratedDatabasePerSuite(dialect)
  let host: FakeHost
  let root: string
  beforeAll(async () => {
    host = await startFakeCodeHost()
  })
  afterAll(async () => host.close())
  const tempRoot = tempDirsPerTest()

  /** A run whose one step committed a README change on its branch, pushed, with a PR when `pr`. */
  const setup = async (pr: boolean) => {
    root = tempRoot('tgz-sync-')
    const name = `0001-sync-${Math.random().toString(36).slice(2, 8)}`
    const deps = makeJobDeps(db.handle, root, { githubToken: 'gh-secret', hostUrl: host.url })
    const seeded = await seedRunOnClone(db.handle, root, {
      project: { name: `sync-${name}`, gitUrl: 'https://github.com/acme/widgets.git' },
      run: { protocolName: name, status: 'running' },
      steps: [{ stepIndex: 0, stepName: '00-work.md', status: 'completed' }],
    })
    const { origin, clone, uow } = seeded
    const step = seeded.steps[0]!
    const run = pr ? (await uow.run((tx) => tx.runs.update(seeded.run.id, { prNumber: 7 })))! : seeded.run
    const worktree = await deps.git.ensureWorktree(
      { repoPath: clone, protocolName: name, baseBranch: 'main' },
      AbortSignal.timeout(30_000),
    )
    writeFileSync(join(worktree.path, 'README.md'), '# demo\n\nThe step changed this.\n')
    git(worktree.path, 'add', 'README.md')
    git(worktree.path, 'commit', '-m', 'step work')
    git(worktree.path, 'push', 'origin', name)
    const head = git(worktree.path, 'rev-parse', 'HEAD').trim()
    await uow.run((tx) => tx.steps.update(step.id, { headSha: head }))
    const other = join(root, 'other')
    git(root, 'clone', origin, other)
    const moveBase = (file: string, text: string) => {
      writeFileSync(join(other, file), text)
      git(other, 'add', file)
      git(other, 'commit', '-m', `main changes ${file}`)
      git(other, 'push', 'origin', 'main')
    }
    return { uow, deps, run, step, worktree, head, origin, moveBase, name }
  }
  const eventTypes = async (uow: ReturnType<typeof createUnitOfWork>, runId: number) =>
    uow.run(async (tx) =>
      (await tx.events.list({ protocolRunId: runId, limit: 100 })).map((e) => e.eventType),
    )

  it.skipIf(unavailable(dialect))(
    'rebases cleanly over a non-conflicting base commit, pushes with a lease and moves the step to the new head',
    async () => {
      const s = await setup(true)
      s.moveBase('other.txt', 'unrelated\n')
      const result = await createBaseSyncHandler(s.deps)(
        { protocol_run_id: s.run.id, job_id: 'b1' },
        jobRun(),
      )
      expect(result).toEqual({ outcome: 'rebased' })
      const newHead = git(s.worktree.path, 'rev-parse', 'HEAD').trim()
      expect(newHead).not.toBe(s.head)
      expect(git(s.origin, 'rev-parse', `refs/heads/${s.name}`).trim()).toBe(newHead)
      const step = await s.uow.run((tx) => tx.steps.findById(s.step.id))
      expect(step?.headSha).toBe(newHead)
      expect(step?.status).toBe('completed')
      expect(await eventTypes(s.uow, s.run.id)).toContain('branch_rebased')
    },
  )

  it.skipIf(unavailable(dialect))(
    'on a conflict, aborts the rebase and dispatches the step again with the conflicting files',
    async () => {
      const s = await setup(true)
      s.moveBase('README.md', '# demo\n\nMain changed this too.\n')
      const result = await createBaseSyncHandler(s.deps)(
        { protocol_run_id: s.run.id, job_id: 'b2' },
        jobRun(),
      )
      expect(result).toEqual({ outcome: 'conflict' })
      expect(git(s.worktree.path, 'rev-parse', 'HEAD').trim()).toBe(s.head)
      expect(git(s.worktree.path, 'status', '--porcelain')).toBe('')
      expect(git(s.origin, 'rev-parse', `refs/heads/${s.name}`).trim()).toBe(s.head)
      const step = await s.uow.run((tx) => tx.steps.findById(s.step.id))
      expect(step?.status).toBe('running')
      expect(step?.runtimeState?.merge_conflict).toMatchObject({ base_branch: 'main', files: ['README.md'] })
      const jobs = await s.uow.run((tx) => tx.jobs.list({ limit: 20, projectId: s.run.projectId }))
      expect(jobs.map((j) => j.type)).toContain('execute_step_job')
      expect(await eventTypes(s.uow, s.run.id)).toEqual(
        expect.arrayContaining(['merge_conflict_detected', 'merge_conflict_step_dispatched']),
      )
    },
  )

  it.skipIf(unavailable(dialect))(
    'checks before open_pr: a conflicting branch gets no PR, its step does',
    async () => {
      const s = await setup(false)
      s.moveBase('README.md', '# demo\n\nMain changed this too.\n')
      const before = host.prs.length
      const result = await createOpenPrHandler(s.deps)({ protocol_run_id: s.run.id, job_id: 'p1' }, jobRun())
      expect(result).toEqual({ outcome: 'conflict' })
      expect(host.prs.length).toBe(before)
      const step = await s.uow.run((tx) => tx.steps.findById(s.step.id))
      expect(step?.runtimeState?.merge_conflict).toMatchObject({ files: ['README.md'] })
    },
  )
})
