import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { moveStep, moveStepWithRun } from '../../src/app/protocol/execution/step-outcomes.js'
import type { Repositories, StepMove, UnitOfWork } from '../../src/app/ports.js'
import { isAppError } from '../../src/domain/app-error.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedRun, seedStep } from '../support/fixtures.js'

// moveStep writes without reading the step first (one statement on Postgres); what it does must
// stay what the read-then-write did: move when the table allows it, else record the event alone,
// and never move a step another writer moved meanwhile.

const approve: StepMove = {
  from: ['needs_qa', 'blocked', 'failed', 'pending'],
  to: 'completed',
  patch: { summary: 'approved' },
  event: { type: 'step_completed', message: 'ok', movedMetadata: { m: 1 }, unmovedMetadata: { u: 1 } },
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`a step's move without a read first (${dialect})`, () => {
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

    const seeded = async (status: Parameters<typeof seedStep>[2]) => {
      const project = await seedProject(repos)
      const run = await seedRun(repos, project.id, 'running')
      return { project, run, step: await seedStep(repos, run.id, status) }
    }

    const eventsOf = async (stepId: number, runId: number) =>
      (await repos.events.list({ protocolRunId: runId, limit: 50, excludeProjectIds: [] })).filter(
        (event) => event.stepRunId === stepId,
      )

    it('moves an allowed step, applies the patch and records the event on its run and project', async () => {
      const { project, run, step } = await seeded('needs_qa')
      const result = await repos.steps.moveIfAllowed(step.id, approve)
      expect(result?.moved).toBe(true)
      expect(result?.step).toMatchObject({ status: 'completed', summary: 'approved' })
      expect(result?.event).toMatchObject({
        projectId: project.id,
        protocolRunId: run.id,
        metadata: { m: 1 },
      })
      expect(await repos.steps.findById(step.id)).toEqual(result?.step)
      expect(await eventsOf(step.id, run.id)).toMatchObject([result!.event])
    })

    it('records only the event for a step the table does not allow to move', async () => {
      const { run, step } = await seeded('running')
      const result = await repos.steps.moveIfAllowed(step.id, approve)
      expect(result?.moved).toBe(false)
      expect((await repos.steps.findById(step.id))?.status).toBe('running')
      expect((await repos.steps.findById(step.id))?.summary).toBe(step.summary)
      expect((await eventsOf(step.id, run.id)).map((event) => event.metadata)).toEqual([{ u: 1 }])
    })

    it("adds a call's spending to the run by the same write, and returns the run as it left it", async () => {
      const { run, step } = await seeded('needs_qa')
      const result = await repos.steps.moveIfAllowed(step.id, {
        ...approve,
        runUsage: { tokens: 120, costUsd: 0.25 },
      })
      expect(result?.moved).toBe(true)
      expect(result?.run).toMatchObject({ id: run.id, tokensUsed: run.tokensUsed + 120 })
      expect(result?.run.costUsd).toBeCloseTo(run.costUsd + 0.25)
      expect(await repos.runs.findById(run.id)).toEqual(result?.run)
    })

    it('adds the spending to the run even when the step does not move', async () => {
      const { run, step } = await seeded('running')
      const result = await repos.steps.moveIfAllowed(step.id, {
        ...approve,
        runUsage: { tokens: 7, costUsd: 0 },
      })
      expect(result?.moved).toBe(false)
      expect((await repos.runs.findById(run.id))?.tokensUsed).toBe(run.tokensUsed + 7)
      expect(result?.run.tokensUsed).toBe(run.tokensUsed + 7)
    })

    it('without spending, returns the run as stored and leaves it untouched', async () => {
      const { run, step } = await seeded('needs_qa')
      const result = await repos.steps.moveIfAllowed(step.id, approve)
      expect(result?.run).toEqual(await repos.runs.findById(run.id))
      expect(result?.run.updatedAt).toBe(run.updatedAt)
    })

    it('writes nothing for an unknown step', async () => {
      expect(await repos.steps.moveIfAllowed(2_000_000_000, approve)).toBeUndefined()
    })

    it('hands the move and its event to the unit of work, as notifications need', async () => {
      const { run, step } = await seeded('needs_qa')
      const moved = await uow.run((tx) =>
        moveStep(tx, step.id, 'approve', {
          event: { type: 'step_completed', message: 'ok' },
          origin: { jobId: 'j1' },
        }),
      )
      expect(moved?.status).toBe('completed')
      expect((await eventsOf(step.id, run.id))[0]?.metadata).toEqual({ job_id: 'j1' })
    })

    it.skipIf(dialect !== 'postgres')(
      'refuses with ORC_STATE_CHANGED and records nothing when another writer moved the step first',
      async () => {
        const { run, step } = await seeded('needs_qa')
        let racing: Promise<unknown> = Promise.resolve()
        await uow.run(async (tx) => {
          await tx.steps.compareAndSetStatus(step.id, ['needs_qa'], 'running')
          // Waits on the row lock, then finds the committed `running`.
          racing = repos.steps.moveIfAllowed(step.id, approve).catch((error: unknown) => error)
          await new Promise((resolve) => setTimeout(resolve, 300))
        })
        const error = await racing
        expect(isAppError(error) && error.code).toBe('ORC_STATE_CHANGED')
        expect((await repos.steps.findById(step.id))?.status).toBe('running')
        expect(await eventsOf(step.id, run.id)).toEqual([])
      },
    )

    it.skipIf(dialect !== 'postgres')('a step outcome in a unit of work costs two statements', async () => {
      const { step } = await seeded('needs_qa')
      const sent = vi.spyOn(pg.Client.prototype, 'query')
      try {
        await uow.run((tx) =>
          moveStep(tx, step.id, 'approve', { event: { type: 'step_completed', message: 'ok' }, origin: {} }),
        )
        // BEGIN with the move and its event, then COMMIT.
        expect(sent).toHaveBeenCalledTimes(2)
      } finally {
        sent.mockRestore()
      }
    })

    it.skipIf(dialect !== 'postgres')(
      'adding the spending to the run costs no statement of its own',
      async () => {
        const { run, step } = await seeded('needs_qa')
        const sent = vi.spyOn(pg.Client.prototype, 'query')
        try {
          const moved = await uow.run((tx) =>
            moveStepWithRun(tx, step.id, 'approve', {
              event: { type: 'step_completed', message: 'ok' },
              origin: {},
              runUsage: { tokens: 5, costUsd: 0.01 },
            }),
          )
          expect(sent).toHaveBeenCalledTimes(2)
          expect(moved?.run.tokensUsed).toBe(run.tokensUsed + 5)
        } finally {
          sent.mockRestore()
        }
      },
    )
  })
}
