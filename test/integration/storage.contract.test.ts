import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Reader, Repositories, UnitOfWork } from '../../src/app/ports.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { isAppError } from '../../src/domain/app-error.js'
import { changeRunStatus } from '../../src/app/state-changes.js'
import { acquireRunLease } from '../../src/app/runs/run-lease.js'
import { moveStep } from '../../src/app/protocol/execution/step-outcomes.js'
import { NO_ORIGIN } from '../../src/app/context.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun, seedStartedJob, seedStep, unique } from '../support/fixtures.js'

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise
    return undefined
  } catch (error) {
    return isAppError(error) ? error.code : String((error as { code?: unknown }).code ?? error)
  }
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`storage on ${dialect}`, () => {
    let handle: DatabaseHandle
    let close: () => Promise<void>
    let repos: Repositories
    let uow: UnitOfWork

    beforeAll(async () => {
      ;({ handle, close } = await openMigratedDatabase(dialect))
      repos = createRepositories(handle.db)
      uow = createUnitOfWork(handle.db)
    })
    afterAll(() => close())

    it('applies migrations once; running them again changes nothing', async () => {
      expect((await migrateToLatest(handle)).applied).toEqual([])
    })

    it('returns timestamps as ISO-8601 UTC with milliseconds and Z', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id)
      const step = await seedStep(repos, run.id)
      const event = await repos.events.append({ projectId: project.id, eventType: 'x', message: 'y' })
      for (const value of [
        project.createdAt,
        project.updatedAt,
        run.createdAt,
        step.updatedAt,
        event.createdAt,
      ]) {
        expect(value).toMatch(ISO_UTC_MS)
      }
    })

    it('round-trips JSON columns identically: {} stays {}, [] stays [], unicode survives', async () => {
      const project = await seedProject(repos, { defaultModels: {}, secrets: {} })
      expect(project.defaultModels).toEqual({})
      const run = await repos.runs.create({
        projectId: project.id,
        protocolName: `0001-json-${unique()}`,
        status: 'pending',
        baseBranch: 'main',
        templateConfig: { protocol_spec: { steps: [] }, nested: { a: [1, 2.5, 'é', null, true] } },
        templateSource: {},
      })
      const read = await repos.runs.findById(run.id)
      expect(read?.templateConfig).toEqual({
        protocol_spec: { steps: [] },
        nested: { a: [1, 2.5, 'é', null, true] },
      })
      expect(read?.templateSource).toEqual({})
      const step = await repos.steps.create({
        protocolRunId: run.id,
        stepIndex: 0,
        stepName: '00-a',
        stepType: 'work',
        status: 'pending',
        policy: [],
      })
      expect((await repos.steps.findById(step.id))?.policy).toEqual([])
    })

    it('keeps secret values out of the project read model and hands them only to credential checks', async () => {
      const project = await seedProject(repos, {
        secrets: { webhook_secret: 's3cr3t' },
        apiTokenHash: 'ab'.repeat(32),
      })
      expect(project.hasApiToken).toBe(true)
      expect(project.secretKeys).toEqual(['webhook_secret'])
      expect(JSON.stringify(await repos.projects.findById(project.id))).not.toContain('s3cr3t')
      const credentials = await repos.projects.findCredentials(project.id)
      expect(credentials).toEqual({
        projectId: project.id,
        apiTokenHash: 'ab'.repeat(32),
        secrets: { webhook_secret: 's3cr3t' },
      })
    })

    it('lists newest first with the id as tiebreaker', async () => {
      const project = await seedProject(repos)
      const runs = []
      for (let i = 0; i < 5; i++) runs.push(await seedRun(repos, project.id))
      const listed = await repos.runs.listByProject(project.id, { limit: 100 })
      expect(listed.map((r) => r.id)).toEqual(runs.map((r) => r.id).reverse())
      const page = await repos.runs.listByProject(project.id, { limit: 2, beforeId: runs[3]!.id })
      expect(page.map((r) => r.id)).toEqual([runs[2]!.id, runs[1]!.id])
    })

    it('orders steps by index, then id', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id)
      const b = await seedStep(repos, run.id, 'pending', 1)
      const a = await seedStep(repos, run.id, 'pending', 0)
      const b2 = await seedStep(repos, run.id, 'pending', 1)
      expect((await repos.steps.listByRun(run.id)).map((s) => s.id)).toEqual([a.id, b.id, b2.id])
    })

    it("lists runs, steps and events for a reader: only what its token may read, by the scope's project", async () => {
      const hash = 'cd'.repeat(32)
      const reader = (presentedTokenHash: string | null): Reader => ({ presentedTokenHash })
      const [none, right, wrong] = [reader(null), reader(hash), reader('ef'.repeat(32))]
      const guarded = await seedProject(repos, { apiTokenHash: hash })
      const other = await seedProject(repos, { apiTokenHash: 'ab'.repeat(32) })
      const open = await seedProject(repos)
      const run = await seedRun(repos, guarded.id)
      const openRun = await seedRun(repos, open.id)
      const emptyRun = await seedRun(repos, guarded.id)
      const step = await seedStep(repos, run.id)
      const openStep = await seedStep(repos, openRun.id)
      const append = (projectId: number, protocolRunId: number | null) =>
        repos.events.append({ projectId, protocolRunId, eventType: 'x', message: 'y' })
      const guardedEvent = await append(guarded.id, run.id)
      // Filed under the open project but belonging to the guarded run: the run's project decides.
      const strayEvent = await append(open.id, run.id)
      const openEvent = await append(open.id, openRun.id)
      const otherEvent = await append(other.id, null)
      const ids = (rows: Array<{ id: number }>) => rows.map((row) => row.id)

      const runsOf = (projectId: number, reader: Reader) =>
        repos.runs.listByProjectFor(projectId, { limit: 10 }, reader)
      expect(ids(await runsOf(guarded.id, right))).toEqual([emptyRun.id, run.id])
      expect(await runsOf(guarded.id, none)).toEqual([])
      expect(await runsOf(guarded.id, wrong)).toEqual([])
      expect(ids(await runsOf(open.id, none))).toEqual([openRun.id])

      expect(await repos.steps.listByRunFor(run.id, right)).toEqual([step])
      expect(await repos.steps.listByRunFor(run.id, none)).toEqual([])
      expect(await repos.steps.listByRunFor(run.id, wrong)).toEqual([])
      expect(await repos.steps.listByRunFor(openRun.id, wrong)).toEqual([openStep])

      const events = (filter: { protocolRunId?: number; projectId?: number }, reader: Reader) =>
        repos.events.list({ ...filter, limit: 100, readableBy: reader }).then(ids)
      expect(await events({ protocolRunId: run.id }, right)).toEqual([strayEvent.id, guardedEvent.id])
      expect(await events({ protocolRunId: run.id }, none)).toEqual([])
      expect(await events({ protocolRunId: run.id }, wrong)).toEqual([])
      expect(await events({ projectId: guarded.id }, right)).toEqual([guardedEvent.id])
      expect(await events({ projectId: guarded.id }, wrong)).toEqual([])
      expect(await events({ projectId: open.id, protocolRunId: run.id }, none)).toEqual([])
      expect(await events({ projectId: open.id, protocolRunId: run.id }, right)).toEqual([strayEvent.id])
      // Without a scope, each event's own project decides.
      const feed = async (reader: Reader) => new Set(await events({}, reader))
      for (const [reader, seen, hidden] of [
        [right, [guardedEvent, strayEvent, openEvent], [otherEvent]],
        [none, [strayEvent, openEvent], [guardedEvent, otherEvent]],
        [wrong, [strayEvent, openEvent], [guardedEvent, otherEvent]],
      ] as const) {
        const listed = await feed(reader)
        for (const event of seen) expect(listed.has(event.id)).toBe(true)
        for (const event of hidden) expect(listed.has(event.id)).toBe(false)
      }
    })

    it('reads a step with the project of its run in one call, and nothing for an unknown step', async () => {
      const project = await seedProject(repos)
      await seedStep(repos, (await seedRun(repos, (await seedProject(repos)).id)).id)
      const step = await seedStep(repos, (await seedRun(repos, project.id)).id, 'running')
      expect(await repos.steps.findWithProjectId(step.id)).toEqual({ step, projectId: project.id })
      expect(await repos.steps.findWithProjectId(step.id + 1_000_000)).toBeUndefined()
    })

    it('reads a step with its run and project (or its token hash) in one call, each as its own read gives it, secrets left out', async () => {
      const other = await seedProject(repos)
      await seedStep(repos, (await seedRun(repos, other.id)).id)
      const project = await seedProject(repos, {
        secrets: { DEPLOY_KEY: 'hush' },
        apiTokenHash: 'hash-of-token',
        defaultModels: { exec: 'model-x' },
      })
      const run = await seedRun(repos, project.id, 'running')
      await repos.runs.update(run.id, { templateConfig: { protocol_spec: { steps: [] } }, prNumber: 7 })
      const step = await seedStep(repos, run.id, 'running')
      await repos.steps.mergeRuntimeState(step.id, { job_id: 'j-1' })
      const loaded = await repos.steps.findWithRunAndProject(step.id)
      expect(loaded).toEqual({
        step: await repos.steps.findById(step.id),
        run: await repos.runs.findById(run.id),
        project: await repos.projects.findById(project.id),
      })
      expect(loaded?.project).toMatchObject({ secretKeys: ['DEPLOY_KEY'], hasApiToken: true })
      expect(JSON.stringify(loaded)).not.toContain('hush')
      expect(await repos.steps.findWithRunAndProject(step.id + 1_000_000)).toBeUndefined()
      expect(await repos.steps.findWithRunAndTokenHash(step.id)).toEqual({
        step: loaded?.step,
        run: loaded?.run,
        projectTokenHash: 'hash-of-token',
      })
      const open = await seedStep(repos, (await seedRun(repos, other.id)).id)
      expect((await repos.steps.findWithRunAndTokenHash(open.id))?.projectTokenHash).toBeNull()
      expect(await repos.steps.findWithRunAndTokenHash(step.id + 1_000_000)).toBeUndefined()
    })

    it('reads a run with its project in one call, each as its own read gives it, secrets left out', async () => {
      const other = await seedProject(repos)
      await seedRun(repos, other.id)
      const project = await seedProject(repos, {
        secrets: { DEPLOY_KEY: 'hush' },
        apiTokenHash: 'hash-of-token',
      })
      const run = await seedRun(repos, project.id, 'running')
      await repos.runs.update(run.id, { templateConfig: { protocol_spec: { steps: [] } }, prNumber: 7 })
      const loaded = await repos.runs.findWithProject(run.id)
      expect(loaded).toEqual({
        run: await repos.runs.findById(run.id),
        project: await repos.projects.findById(project.id),
      })
      expect(loaded?.project).toMatchObject({ id: project.id, secretKeys: ['DEPLOY_KEY'], hasApiToken: true })
      expect(JSON.stringify(loaded)).not.toContain('hush')
      expect(JSON.stringify(loaded)).not.toContain('hash-of-token')
      expect(await repos.runs.findWithProject(run.id + 1_000_000)).toBeUndefined()
    })

    it('refuses a second protocol with the same name in one project, not across projects', async () => {
      const one = await seedProject(repos)
      const two = await seedProject(repos)
      await seedRun(repos, one.id, 'pending', '0001-same')
      expect(await codeOf(seedRun(repos, one.id, 'pending', '0001-same'))).toBe('ORC_DUPLICATE_PROTOCOL_NAME')
      await expect(seedRun(repos, two.id, 'pending', '0001-same')).resolves.toMatchObject({
        branchName: '0001-same',
      })
    })

    it('enforces foreign keys', async () => {
      expect(await codeOf(seedRun(repos, 987_654))).toBeDefined()
    })

    it('stores project-level events without a run and lists them with their project', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id)
      await repos.events.append({
        projectId: project.id,
        eventType: 'branches_listed',
        message: 'Listed remote branches.',
        metadata: { branches: ['main'] },
      })
      await repos.events.append({
        projectId: project.id,
        protocolRunId: run.id,
        eventType: 'paused',
        message: 'Paused.',
        metadata: {},
      })
      const events = await repos.events.list({ projectId: project.id, limit: 10 })
      expect(events.map((e) => e.eventType)).toEqual(['paused', 'branches_listed'])
      expect(events[0]).toMatchObject({
        protocolName: run.protocolName,
        projectName: project.name,
        metadata: null,
      })
      expect(events[1]).toMatchObject({
        protocolRunId: null,
        protocolName: null,
        metadata: { branches: ['main'] },
      })
      expect(await repos.events.list({ projectId: project.id, eventType: 'paused', limit: 10 })).toHaveLength(
        1,
      )
      expect(await repos.events.list({ protocolRunId: run.id, limit: 10 })).toHaveLength(1)
      const newer = await repos.events.list({ projectId: project.id, afterId: events[1]!.id, limit: 10 })
      expect(newer.map((e) => e.id)).toEqual([events[0]!.id])
    })

    it('writes a status only when the current status is one of the expected ones', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'pending')
      const moved = await repos.runs.compareAndSetStatus(run.id, ['pending'], 'planning', {
        description: 'go',
      })
      expect(moved).toMatchObject({ status: 'planning', description: 'go' })
      expect(await codeOf(repos.runs.compareAndSetStatus(run.id, ['pending'], 'running'))).toBe(
        'ORC_STATE_CHANGED',
      )
      expect((await repos.runs.findById(run.id))?.status).toBe('planning')
      const step = await seedStep(repos, run.id, 'running')
      expect(await codeOf(repos.steps.compareAndSetStatus(step.id, ['pending'], 'running'))).toBe(
        'ORC_STATE_CHANGED',
      )
    })

    it('appends the event of a step compare-and-set only when the step moved, and hands it to onCommit', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const step = await seedStep(repos, run.id, 'running')
      const committed: string[] = []
      const recorded = createUnitOfWork(handle.db, ({ events }) =>
        committed.push(...events.map((e) => e.eventType)),
      )
      const change = {
        projectId: project.id,
        protocolRunId: run.id,
        stepRunId: step.id,
        eventType: 'step_completed',
        message: 'done',
        metadata: { job_id: 'j-1', nested: { a: [1, 'é'] } },
      }
      const moved = await recorded.run((tx) =>
        tx.steps.compareAndSetStatusWithEvent(step.id, ['running'], 'needs_qa', { summary: 's' }, change),
      )
      expect(moved.step).toMatchObject({ id: step.id, status: 'needs_qa', summary: 's' })
      const listed = await repos.events.list({ protocolRunId: run.id, limit: 10 })
      expect(listed).toHaveLength(1)
      expect(moved.event).toEqual({ ...change, id: listed[0]!.id, createdAt: listed[0]!.createdAt })
      expect(moved.event.createdAt).toMatch(ISO_UTC_MS)
      expect(committed).toEqual(['step_completed'])

      const stale = recorded.run((tx) =>
        tx.steps.compareAndSetStatusWithEvent(step.id, ['running'], 'completed', undefined, change),
      )
      expect(await codeOf(stale)).toBe('ORC_STATE_CHANGED')
      expect(await repos.events.list({ protocolRunId: run.id, limit: 10 })).toHaveLength(1)
      expect((await repos.steps.findById(step.id))?.status).toBe('needs_qa')
      expect(committed).toEqual(['step_completed'])
      if (dialect === 'postgres') {
        // Its commit position is its transaction's, as for an appended event (see event-positions.ts).
        const both = await recorded.run(async (tx) => [
          (await tx.events.append({ projectId: project.id, eventType: 'x', message: 'y' })).id,
          (await tx.steps.compareAndSetStatusWithEvent(step.id, ['needs_qa'], 'running', undefined, change))
            .event.id,
        ])
        const { rows } = await sql<{
          txid: number
        }>`select txid from events where id in (${sql.join(both)})`.execute(handle.db)
        expect(rows).toHaveLength(2)
        expect(rows[0]!.txid).toBeGreaterThan(0)
        expect(rows[1]!.txid).toBe(rows[0]!.txid)
      }
    })

    it('merges runtime keys in the step compare-and-set itself, keeping the others, and not when it loses', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const step = await seedStep(repos, run.id, 'pending')
      await repos.steps.mergeRuntimeState(step.id, { inline_trigger_depth: 2, kept: { a: 1 } })
      const change = {
        projectId: project.id,
        protocolRunId: run.id,
        stepRunId: step.id,
        eventType: 'step_enqueued',
        message: 'm',
      }
      const merge = { retries: 1, runtimeMerge: { inline_trigger_depth: null, job_id: 'j-9' } }
      const moved = await uow.run((tx) =>
        tx.steps.compareAndSetStatusWithEvent(step.id, ['pending'], 'running', merge, change),
      )
      expect(moved.step).toMatchObject({
        status: 'running',
        retries: 1,
        runtimeState: { kept: { a: 1 }, job_id: 'j-9' },
      })
      expect((await repos.steps.findById(step.id))?.runtimeState).toEqual({ kept: { a: 1 }, job_id: 'j-9' })
      const lost = uow.run((tx) =>
        tx.steps.compareAndSetStatusWithEvent(
          step.id,
          ['pending'],
          'running',
          { runtimeMerge: { job_id: 'late' } },
          change,
        ),
      )
      expect(await codeOf(lost)).toBe('ORC_STATE_CHANGED')
      expect((await repos.steps.findById(step.id))?.runtimeState).toEqual({ kept: { a: 1 }, job_id: 'j-9' })
    })

    it('reads a run lease with its holder step as it is now, in one read', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const step = await seedStep(repos, run.id, 'running')
      expect(await repos.leases.findWithHolder(run.id)).toBeUndefined()
      await repos.leases.swap({ protocolRunId: run.id, stepRunId: step.id, jobId: 'j-1' }, undefined)
      const found = await repos.leases.findWithHolder(run.id)
      expect(found?.lease).toMatchObject({ protocolRunId: run.id, stepRunId: step.id, jobId: 'j-1' })
      expect(found?.holder).toEqual(await repos.steps.findById(step.id))
    })

    it('a base sync holds the worktree in a finished step’s name while its job runs, then lets steps in', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const done = await seedStep(repos, run.id, 'completed', 0)
      const next = await seedStep(repos, run.id, 'pending', 1)
      const claim = await seedStartedJob(repos, {
        id: `sync-${run.id}`,
        type: 'base_sync_job',
        payload: { protocol_run_id: run.id },
        maxAttempts: 3,
        projectId: project.id,
        protocolRunId: run.id,
        stepRunId: null,
      })
      const sync = { id: claim.jobId }
      const take = (stepRunId: number, jobId: string) =>
        uow.run((tx) => acquireRunLease(tx, { protocolRunId: run.id, stepRunId, jobId }))
      expect(
        await uow.run((tx) =>
          acquireRunLease(tx, {
            protocolRunId: run.id,
            stepRunId: done.id,
            jobId: sync.id,
            heldFor: 'base_sync',
          }),
        ),
      ).toEqual({ acquired: true })
      // A retry of the sync's job is the holder itself…
      expect(
        await uow.run((tx) =>
          acquireRunLease(tx, {
            protocolRunId: run.id,
            stepRunId: done.id,
            jobId: sync.id,
            heldFor: 'base_sync',
          }),
        ),
      ).toEqual({ acquired: true })
      // …but neither another step nor the step it is held in the name of may write there meanwhile.
      expect(await take(next.id, 'exec-next')).toMatchObject({
        acquired: false,
        holder: { id: done.id },
        activity: 'having its branch synced with the base',
      })
      expect(await take(done.id, 'exec-done')).toMatchObject({ acquired: false })
      await repos.jobs.settle(claim, { status: 'finished', result: {} })
      expect(await take(next.id, 'exec-next')).toEqual({ acquired: true })
      expect((await repos.leases.findWithHolder(run.id))?.lease).toMatchObject({ stepRunId: next.id })
      expect((await repos.leases.findWithHolder(run.id))?.lease.heldFor).toBeUndefined()
    })

    /** A run whose first step CI failed while its execute job (started) was still at work. */
    const failedMidway = async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const failed = await seedStep(repos, run.id, 'running', 0)
      const next = await seedStep(repos, run.id, 'pending', 1)
      const claim = await seedStartedJob(repos, {
        id: `exec-${failed.id}`,
        type: 'execute_step_job',
        payload: { step_run_id: failed.id },
        maxAttempts: 3,
        projectId: project.id,
        protocolRunId: run.id,
        stepRunId: failed.id,
      })
      const exec = { id: claim.jobId }
      await repos.leases.swap({ protocolRunId: run.id, stepRunId: failed.id, jobId: exec.id }, undefined)
      await repos.steps.compareAndSetStatus(failed.id, ['running'], 'failed')
      const take = (stepRunId: number, jobId: string, inJob?: string) =>
        uow.run((tx) => acquireRunLease(tx, { protocolRunId: run.id, stepRunId, jobId }, inJob))
      return { failed, next, claim, take }
    }

    it('a step failed while its job still runs keeps the worktree until the job ends', async () => {
      const { failed, next, claim, take } = await failedMidway()
      expect(await take(next.id, 'exec-next')).toMatchObject({ acquired: false, holder: { id: failed.id } })
      expect(await take(failed.id, 'exec-again')).toMatchObject({
        acquired: false,
        holder: { id: failed.id },
      })
      await repos.jobs.settle(claim, { status: 'failed', error: 'agent stopped' })
      expect(await take(failed.id, 'exec-again')).toEqual({ acquired: true })
    })

    it('a step a loop reset while its job still runs keeps the worktree from other steps', async () => {
      const { failed, next, take } = await failedMidway()
      await repos.steps.compareAndSetStatus(failed.id, ['failed'], 'pending')
      expect(await take(next.id, 'exec-next')).toMatchObject({
        acquired: false,
        holder: { id: failed.id },
        activity: 'pending, its job still ending',
      })
      expect(await take(failed.id, 'exec-again')).toMatchObject({ acquired: false })
    })

    it('a step completed by someone else while its job still runs keeps the worktree until the job ends', async () => {
      const { failed, next, claim, take } = await failedMidway()
      // A user approves the step CI failed midway; its agent is still at work.
      await repos.steps.compareAndSetStatus(failed.id, ['failed'], 'completed')
      expect(await take(next.id, 'exec-next')).toMatchObject({
        acquired: false,
        holder: { id: failed.id },
        activity: 'completed, its job still ending',
      })
      await repos.jobs.settle(claim, { status: 'finished', result: {} })
      expect(await take(next.id, 'exec-next')).toEqual({ acquired: true })
    })

    it('a job completing its own step frees the worktree in that transaction, before its settle', async () => {
      const { failed, next, claim, take } = await failedMidway()
      await repos.steps.compareAndSetStatus(failed.id, ['failed'], 'running')
      const event = { type: 'step_completed', message: 'done' }
      await uow.run((tx) => moveStep(tx, failed.id, 'complete', { event, origin: { jobId: claim.jobId } }))
      expect((await repos.jobs.findById(claim.jobId))?.status).toBe('started')
      expect(await take(next.id, 'exec-next')).toEqual({ acquired: true })
    })

    it('a take read before a release loses to the take that came after it', async () => {
      const { failed, next, claim } = await failedMidway()
      // A second QA reads the lease; the first QA's pass releases it and dispatches the next step.
      const read = await repos.leases.findWithHolder(failed.protocolRunId)
      await repos.leases.release(failed.protocolRunId, claim.jobId)
      const dispatched = { protocolRunId: failed.protocolRunId, stepRunId: next.id, jobId: 'exec-next' }
      expect(await repos.leases.swap(dispatched, undefined)).toBe(true)
      const stale = { protocolRunId: failed.protocolRunId, stepRunId: failed.id, jobId: 'qa-2' }
      expect(await repos.leases.swap(stale, read?.lease)).toBe(false)
      expect((await repos.leases.findWithHolder(failed.protocolRunId))?.lease).toMatchObject({
        stepRunId: next.id,
        jobId: 'exec-next',
      })
    })

    /** A running step whose execute job (started) holds the worktree, and a take for its QA jobs. */
    const executing = async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const step = await seedStep(repos, run.id, 'running', 0)
      const started = (id: string, type: 'execute_step_job' | 'run_quality_job') =>
        seedStartedJob(repos, {
          id,
          type,
          payload: { step_run_id: step.id },
          maxAttempts: 3,
          projectId: project.id,
          protocolRunId: run.id,
          stepRunId: step.id,
        })
      const exec = await started(`exec-${step.id}`, 'execute_step_job')
      await repos.leases.swap({ protocolRunId: run.id, stepRunId: step.id, jobId: exec.jobId }, undefined)
      const qa = async (id: string) => {
        await started(id, 'run_quality_job')
        return uow.run((tx) =>
          acquireRunLease(tx, { protocolRunId: run.id, stepRunId: step.id, jobId: id }, id),
        )
      }
      return { step, exec, qa }
    }

    it("an execution hands the worktree to its step's QA in its move; a second QA waits for the first", async () => {
      const { step, exec, qa } = await executing()
      const event = { type: 'step_completed', message: 'Step executed; QA required.' }
      const origin = { jobId: exec.jobId }
      await uow.run((tx) => moveStep(tx, step.id, 'executed', { event, origin, endsWorkInWorktree: true }))
      expect((await repos.jobs.findById(exec.jobId))?.status).toBe('started')
      expect(await qa(`qa1-${step.id}`)).toEqual({ acquired: true })
      expect(await qa(`qa2-${step.id}`)).toMatchObject({ acquired: false, activity: 'under QA' })
    })

    it('a QA asked for while the step still executes waits for the execution’s agent', async () => {
      const { step, exec, qa } = await executing()
      // A user's "Run QA" (or QA on a CI success) moves the running step to needs_qa.
      await repos.steps.compareAndSetStatus(step.id, ['running'], 'needs_qa')
      expect(await qa(`qa-${step.id}`)).toMatchObject({ acquired: false, holder: { id: step.id } })
      await repos.jobs.settle(exec, { status: 'finished', result: {} })
      expect(await qa(`qa-again-${step.id}`)).toEqual({ acquired: true })
    })

    it('a completion in another job leaves the agent’s take alone', async () => {
      const { failed, next, take } = await failedMidway()
      await repos.steps.compareAndSetStatus(failed.id, ['failed'], 'running')
      const event = { type: 'ci_passed', message: 'CI passed' }
      await uow.run((tx) => moveStep(tx, failed.id, 'complete', { event, origin: { jobId: 'ci-notice-1' } }))
      expect(await take(next.id, 'exec-next')).toMatchObject({ acquired: false, holder: { id: failed.id } })
    })

    it("a step failed in its own job's transaction hands the worktree on (a loop policy)", async () => {
      const { next, claim, take } = await failedMidway()
      expect(await take(next.id, 'exec-next', claim.jobId)).toEqual({ acquired: true })
    })

    it.each([
      ['another step', 'completed'],
      ['the very step it would hold in the name of', 'running'],
    ] as const)('refuses a base sync the worktree while a step is executing there: %s', async (_, first) => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const named = await seedStep(repos, run.id, first, 0)
      const running = first === 'running' ? named : await seedStep(repos, run.id, 'running', 1)
      await repos.leases.swap({ protocolRunId: run.id, stepRunId: running.id, jobId: 'exec-1' }, undefined)
      const outcome = await uow.run((tx) =>
        acquireRunLease(tx, {
          protocolRunId: run.id,
          stepRunId: named.id,
          jobId: 'sync-1',
          heldFor: 'base_sync',
        }),
      )
      expect(outcome).toMatchObject({ acquired: false, holder: { id: running.id }, activity: 'executing' })
    })

    it('refuses a lease swap when the step it read took its own lease again meanwhile', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      const failed = await seedStep(repos, run.id, 'failed', 0)
      const other = await seedStep(repos, run.id, 'pending', 1)
      await repos.leases.swap({ protocolRunId: run.id, stepRunId: failed.id, jobId: 'j-1' }, undefined)
      // Another start reads the lease: its holder has failed, so it has released the worktree…
      const read = await repos.leases.findWithHolder(run.id)
      // …while the failed step is started again and takes its lease anew, under the same step id.
      const again = await repos.leases.findWithHolder(run.id)
      expect(
        await repos.leases.swap({ protocolRunId: run.id, stepRunId: failed.id, jobId: 'j-2' }, again?.lease),
      ).toBe(true)
      // The first start's swap names the take it read, which is gone: it must lose.
      expect(
        await repos.leases.swap({ protocolRunId: run.id, stepRunId: other.id, jobId: 'j-3' }, read?.lease),
      ).toBe(false)
      expect((await repos.leases.findWithHolder(run.id))?.lease).toMatchObject({
        stepRunId: failed.id,
        jobId: 'j-2',
      })
    })

    it.skipIf(dialect !== 'postgres')(
      'of a failed step started again and another start racing it, only the first gets the worktree',
      async () => {
        const project = await seedProject(repos)
        const run = await seedRun(repos, project.id, 'running')
        const failed = await seedStep(repos, run.id, 'failed', 0)
        const other = await seedStep(repos, run.id, 'pending', 1)
        await repos.leases.swap({ protocolRunId: run.id, stepRunId: failed.id, jobId: 'j-1' }, undefined)
        let racing: Promise<unknown> = Promise.resolve()
        await uow.run(async (tx) => {
          await tx.steps.compareAndSetStatus(failed.id, ['failed'], 'running')
          const retake = { protocolRunId: run.id, stepRunId: failed.id, jobId: 'j-2' }
          expect(await acquireRunLease(tx, retake)).toEqual({ acquired: true })
          // Reads the lease before this commits (its holder failed), then waits on the row.
          racing = uow.run((other_tx) =>
            acquireRunLease(other_tx, { protocolRunId: run.id, stepRunId: other.id, jobId: 'j-3' }),
          )
          await new Promise((resolve) => setTimeout(resolve, 300))
        })
        expect(await racing).toMatchObject({ acquired: false, holder: { id: failed.id, status: 'running' } })
        expect((await repos.leases.findWithHolder(run.id))?.lease).toMatchObject({ stepRunId: failed.id })
      },
    )

    it('lets exactly one of two racing writers win a compare-and-set', async () => {
      const project = await seedProject(repos)
      for (let round = 0; round < 10; round++) {
        // Both writers saw the run as pending (as two API requests would) and race to move it.
        const run = await seedRun(repos, project.id, 'pending')
        const race = (action: 'start' | 'cancel') =>
          uow.run((tx) =>
            changeRunStatus(tx, run, action, { event: { type: action, message: action }, origin: NO_ORIGIN }),
          )
        const results = await Promise.allSettled([race('start'), race('cancel')])
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
        const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
        expect(loser.reason).toMatchObject({ code: 'ORC_STATE_CHANGED' })
        expect(await repos.events.list({ protocolRunId: run.id, limit: 10 })).toHaveLength(1)
      }
    })

    it("adds a call's usage in the write itself: two jobs of a run finishing together both count", async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      let firstWrote!: () => void
      const wrote = new Promise<void>((resolve) => (firstWrote = resolve))
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      const first = uow.run(async (tx) => {
        await tx.runs.addUsage(run.id, 100, 0.5)
        firstWrote()
        await released
      })
      await wrote
      // Postgres: the second waits on the first's row; SQLite: on its write lock.
      const second = uow.run((tx) => tx.runs.addUsage(run.id, 20, 0.25))
      setTimeout(release, 100)
      await Promise.all([first, second])
      expect(await repos.runs.findById(run.id)).toMatchObject({ tokensUsed: 120, costUsd: 0.75 })
      await expect(repos.runs.addUsage(999_999, 1, 1)).resolves.toBeUndefined()
    })

    it('reads the breakers of a whole chain at once: only engines limited past now, each with its instant', async () => {
      const now = new Date()
      const later = new Date(now.getTime() + 60_000)
      const past = new Date(now.getTime() - 60_000)
      const [a, b, c] = ['a', 'b', 'c'].map((name) => `chain-${name}-${unique()}`) as [string, string, string]
      await uow.run(async (tx) => {
        await tx.engineLimits.limit(a, later, 'a: limit')
        await tx.engineLimits.limit(b, past, 'b: reset already')
      })
      const limited = await repos.engineLimits.limitedAmong([a, b, c, a], now)
      expect([...limited]).toEqual([[a, later.toISOString()]])
      expect(await repos.engineLimits.limitedAmong([], now)).toEqual(new Map())
    })

    it('keeps the later of two engine limits: an earlier reset never shortens a breaker', async () => {
      const now = Date.now()
      const engine = `breaker-${unique()}`
      const at = (minutes: number) => new Date(now + minutes * 60_000)
      await repos.engineLimits.limit(engine, at(120), 'usage limit, resets in two hours')
      await repos.engineLimits.limit(engine, at(15), 'rate limit, default reset')
      expect(await repos.engineLimits.limitedUntil(engine, new Date(now))).toBe(at(120).toISOString())
      await repos.engineLimits.limit(engine, at(180), 'longer')
      expect(await repos.engineLimits.limitedUntil(engine, new Date(now))).toBe(at(180).toISOString())
    })

    it.skipIf(dialect !== 'postgres')(
      'keeps the later engine limit when two workers record theirs at once',
      async () => {
        const now = Date.now()
        const engine = `breaker-race-${unique()}`
        const [later, earlier] = [new Date(now + 120 * 60_000), new Date(now + 15 * 60_000)]
        let racing: Promise<unknown> = Promise.resolve()
        await uow.run(async (tx) => {
          await tx.engineLimits.limit(engine, later, 'usage limit')
          // The other worker's write waits on this one's row, then finds the later limit.
          racing = repos.engineLimits.limit(engine, earlier, 'rate limit')
          await new Promise((resolve) => setTimeout(resolve, 300))
        })
        await racing
        expect(await repos.engineLimits.limitedUntil(engine, new Date(now))).toBe(later.toISOString())
      },
    )

    it('rolls back every write of a unit of work that fails', async () => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'pending')
      await expect(
        uow.run(async (tx) => {
          await tx.runs.compareAndSetStatus(run.id, ['pending'], 'planning')
          await tx.events.append({
            projectId: project.id,
            protocolRunId: run.id,
            eventType: 'x',
            message: 'x',
          })
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect((await repos.runs.findById(run.id))?.status).toBe('pending')
      expect(await repos.events.list({ protocolRunId: run.id, limit: 10 })).toEqual([])
    })

    it.skipIf(dialect !== 'postgres')(
      'of two units of work locking two runs in opposite orders, one commits and one is told to retry',
      async () => {
        const project = await seedProject(repos)
        const first = await seedRun(repos, project.id, 'running')
        const second = await seedRun(repos, project.id, 'running')
        let holding = 0
        let bothHold: () => void = () => undefined
        const bothHoldOne = new Promise<void>((resolve) => (bothHold = resolve))
        const lockInOrder = (a: number, b: number) =>
          uow.run(async (tx) => {
            await tx.runs.lockById(a)
            if (++holding === 2) bothHold()
            await bothHoldOne
            await tx.runs.update(b, { description: `after ${a}` })
          })
        const outcomes = await Promise.allSettled([
          lockInOrder(first.id, second.id),
          lockInOrder(second.id, first.id),
        ])
        expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected'])
        const lost = outcomes.find((outcome) => outcome.status === 'rejected')
        expect(isAppError(lost?.reason) && lost.reason.code).toBe('ORC_STATE_CHANGED')
      },
    )

    it('updates only the fields given and touches updated_at', async () => {
      const project = await seedProject(repos, { localPath: '/a' })
      const updated = await repos.projects.update(project.id, { ciProvider: 'gitlab' })
      expect(updated).toMatchObject({ localPath: '/a', ciProvider: 'gitlab' })
      expect(updated!.updatedAt >= project.updatedAt).toBe(true)
      expect(await repos.projects.update(999_999, { name: 'x' })).toBeUndefined()
    })
  })
}
