import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createOpenPrHandler } from '../../../src/app/protocol/pr/open-pr.job.js'
import { createBaseSyncHandler } from '../../../src/app/protocol-merge/base-sync.job.js'
import { JobDeferral } from '../../../src/app/queue-runtime/job-deferral.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../../support/databases.js'
import { startFakeCodeHost } from '../../support/fake-code-host.js'
import { git, makeOriginWithClone, removeDir, tempDir } from '../../support/git-repos.js'
import { seedStartedJob } from '../../support/fixtures.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'

type FakeHost = Awaited<ReturnType<typeof startFakeCodeHost>>

describe.each(DIALECTS)('base branch moves, on %s', (dialect) => {
  let db: { handle: DatabaseHandle; close(): Promise<void> }
  let host: FakeHost
  let root: string
  beforeAll(async () => {
    host = await startFakeCodeHost()
    if (!unavailable(dialect)) db = await openMigratedDatabase(dialect)
  })
  afterAll(async () => {
    await host.close()
    await db?.close()
  })
  afterEach(() => root && removeDir(root))

  /** A run whose one step committed a README change on its branch, pushed, with a PR when `pr`. */
  const setup = async (pr: boolean, options: { maxConflictRounds?: number } = {}) => {
    root = tempDir('tgz-sync-')
    const { origin, clone } = makeOriginWithClone(root)
    const uow = createUnitOfWork(db.handle.db)
    const name = `0001-sync-${Math.random().toString(36).slice(2, 8)}`
    const deps = makeJobDeps(db.handle, root, { githubToken: 'gh-secret', hostUrl: host.url, ...options })
    const { run, step } = await uow.run(async (tx) => {
      const project = await tx.projects.create({
        name: `sync-${name}`,
        gitUrl: 'https://github.com/acme/widgets.git',
        baseBranch: 'main',
        localPath: clone,
        ciProvider: null,
        defaultModels: null,
        secrets: null,
        apiTokenHash: null,
      })
      const created = await tx.runs.create({
        projectId: project.id,
        protocolName: name,
        status: 'running',
        baseBranch: 'main',
      })
      const step = await tx.steps.create({
        protocolRunId: created.id,
        stepIndex: 0,
        stepName: '00-work.md',
        stepType: 'work',
        status: 'completed',
      })
      return { run: pr ? (await tx.runs.update(created.id, { prNumber: 7 }))! : created, step }
    })
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

  /** A second step, `01-more.md`, executing in the run's worktree (it holds the lease). */
  const stepAtWork = (s: Awaited<ReturnType<typeof setup>>) =>
    s.uow.run(async (tx) => {
      const step = await tx.steps.create({
        protocolRunId: s.run.id,
        stepIndex: 1,
        stepName: '01-more.md',
        stepType: 'work',
        status: 'running',
      })
      await tx.leases.swap({ protocolRunId: s.run.id, stepRunId: step.id, jobId: 'exec-1' }, undefined)
      return step
    })

  /** A job row that a worker has begun, as the queue leaves it while the handler runs. */
  const startedJob = async (s: Awaited<ReturnType<typeof setup>>, id: string) => {
    await s.uow.run((tx) =>
      seedStartedJob(tx, {
        id,
        type: 'base_sync_job',
        payload: { protocol_run_id: s.run.id },
        maxAttempts: 3,
        projectId: s.run.projectId,
        protocolRunId: s.run.id,
        stepRunId: null,
      }),
    )
    return jobRun(undefined, id)
  }

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
    'leaves the branch alone while a step holds the worktree, and holds it itself otherwise',
    async () => {
      const s = await setup(true)
      s.moveBase('other.txt', 'unrelated\n')
      const working = await stepAtWork(s)
      const sync = createBaseSyncHandler(s.deps)
      expect(await sync({ protocol_run_id: s.run.id, job_id: 'b0' }, jobRun())).toEqual({
        skipped: 'step 01-more.md is executing in the worktree',
      })
      expect(git(s.worktree.path, 'rev-parse', 'HEAD').trim()).toBe(s.head)
      // The step's agent finished: the sync goes on, holding the worktree in the last executed step's name.
      await s.uow.run((tx) => tx.steps.compareAndSetStatus(working.id, ['running'], 'completed'))
      expect(await sync({ protocol_run_id: s.run.id, job_id: 'b1' }, jobRun(undefined, 'sync-b1'))).toEqual({
        outcome: 'rebased',
      })
      const lease = await s.uow.run((tx) => tx.leases.findWithHolder(s.run.id))
      expect(lease?.lease).toMatchObject({ stepRunId: s.step.id, jobId: 'sync-b1', heldFor: 'base_sync' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'open_pr waits while a step executes in the worktree, then opens the PR holding it itself',
    async () => {
      const s = await setup(false)
      s.moveBase('other.txt', 'unrelated\n')
      const working = await stepAtWork(s)
      const openPr = createOpenPrHandler(s.deps)
      const before = host.prs.length
      const early = openPr({ protocol_run_id: s.run.id, job_id: 'p0' }, jobRun())
      await expect(early).rejects.toBeInstanceOf(JobDeferral)
      await expect(early).rejects.toThrow(
        `step ${working.id} (01-more.md) is executing in the run's worktree`,
      )
      expect(host.prs.length).toBe(before)
      expect(git(s.worktree.path, 'rev-parse', 'HEAD').trim()).toBe(s.head)
      await s.uow.run((tx) => tx.steps.compareAndSetStatus(working.id, ['running'], 'completed'))
      const opened = await openPr({ protocol_run_id: s.run.id, job_id: 'p1' }, jobRun(undefined, 'pr-p1'))
      expect(opened).toMatchObject({ outcome: 'pr_opened' })
      expect(host.prs.length).toBe(before + 1)
      const lease = await s.uow.run((tx) => tx.leases.findWithHolder(s.run.id))
      expect(lease?.lease).toMatchObject({ jobId: 'pr-p1', heldFor: 'open_pr' })
    },
  )

  it.skipIf(unavailable(dialect))(
    'a sync still running hands the worktree to the step its conflict re-opens',
    async () => {
      const s = await setup(true)
      s.moveBase('README.md', '# demo\n\nMain changed this too.\n')
      const job = await startedJob(s, `sync-conflict-${s.run.id}`)
      expect(
        await createBaseSyncHandler(s.deps)({ protocol_run_id: s.run.id, job_id: job.jobId }, job),
      ).toEqual({
        outcome: 'conflict',
      })
      const step = await s.uow.run((tx) => tx.steps.findById(s.step.id))
      expect(step?.status).toBe('running')
      const lease = await s.uow.run((tx) => tx.leases.findWithHolder(s.run.id))
      expect(lease?.lease).toMatchObject({ stepRunId: s.step.id, jobId: step?.runtimeState?.job_id })
      expect(lease?.lease.heldFor).toBeUndefined()
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

  it.skipIf(unavailable(dialect))(
    'past TASKSGODZILLA_MERGE_CONFLICT_MAX_ROUNDS the run blocks for a human instead of re-opening its step again',
    async () => {
      const s = await setup(true, { maxConflictRounds: 2 })
      s.moveBase('README.md', '# demo\n\nMain changed this too.\n')
      const sync = createBaseSyncHandler(s.deps)
      const executeJobs = async () =>
        (await s.uow.run((tx) => tx.jobs.list({ limit: 50, projectId: s.run.projectId }))).filter(
          (j) => j.type === 'execute_step_job',
        ).length
      // The agent "finishes" each round without resolving anything; the base keeps conflicting.
      const agentGivesUp = () =>
        s.uow.run((tx) => tx.steps.compareAndSetStatus(s.step.id, ['running', 'pending'], 'completed'))
      for (const round of [1, 2]) {
        expect(await sync({ protocol_run_id: s.run.id, job_id: `c${round}` }, jobRun())).toEqual({
          outcome: 'conflict',
        })
        expect(await executeJobs()).toBe(round)
        await agentGivesUp()
      }
      expect(await sync({ protocol_run_id: s.run.id, job_id: 'c3' }, jobRun())).toEqual({
        outcome: 'blocked',
      })
      expect(await executeJobs()).toBe(2)
      const run = await s.uow.run((tx) => tx.runs.findById(s.run.id))
      expect(run?.status).toBe('blocked')
      const events = await s.uow.run((tx) => tx.events.list({ protocolRunId: s.run.id, limit: 100 }))
      const limit = events.find((e) => e.eventType === 'merge_conflict_limit_reached')
      expect(limit?.metadata).toMatchObject({ rounds: 2, reason: 'needs_human', files: ['README.md'] })
      const blocked = events.find((e) => e.eventType === 'protocol_blocked')
      expect(blocked?.metadata).toMatchObject({ reason: 'needs_human' })
      expect((await s.uow.run((tx) => tx.steps.findById(s.step.id)))?.status).toBe('completed')
    },
  )

  it.skipIf(unavailable(dialect))(
    'open_pr on a run paused meanwhile records the conflict, leaves the run paused and waits for the resume',
    async () => {
      const s = await setup(false)
      await s.uow.run((tx) => tx.runs.compareAndSetStatus(s.run.id, ['running'], 'paused'))
      s.moveBase('README.md', '# demo\n\nMain changed this too.\n')
      const before = host.prs.length
      const attempt = createOpenPrHandler(s.deps)({ protocol_run_id: s.run.id, job_id: 'p2' }, jobRun())
      await expect(attempt).rejects.toBeInstanceOf(JobDeferral)
      expect(host.prs.length).toBe(before)
      expect((await s.uow.run((tx) => tx.runs.findById(s.run.id)))?.status).toBe('paused')
      const step = await s.uow.run((tx) => tx.steps.findById(s.step.id))
      expect(step?.status).toBe('completed')
      expect(step?.runtimeState?.merge_conflict).toBeUndefined()
      const types = await eventTypes(s.uow, s.run.id)
      expect(types).toContain('merge_conflict_detected')
      expect(types).not.toContain('merge_conflict_step_dispatched')
    },
  )
})
