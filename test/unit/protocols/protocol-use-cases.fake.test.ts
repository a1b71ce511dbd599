import { describe, expect, it } from 'vitest'
import type { AppDeps } from '../../../src/app/app-deps.js'
import {
  makePauseProtocol,
  makeResumeProtocol,
  makeStartProtocol,
} from '../../../src/app/protocols/protocol-actions.js'
import { makeApproveStep } from '../../../src/app/steps/step-use-cases.js'
import { AppError } from '../../../src/domain/app-error.js'
import type { Job } from '../../../src/domain/job.js'
import { seedRun } from '../../fakes/protocol-seeds.fake.js'
import { createFakeUnitOfWork, type FakeUnitOfWork } from '../../fakes/unit-of-work.fake.js'

const ORIGIN = { requestId: 'req-1' }

/** A job the queue held back while the run was paused. */
const heldJob = (protocolRunId: number): Job => ({
  id: 'held-1',
  type: 'execute_step_job',
  payload: { step_run_id: 100 },
  status: 'held',
  queue: 'default',
  attempts: 0,
  maxAttempts: 3,
  nextRunAt: '2026-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  result: null,
  error: null,
  meta: null,
  projectId: 1,
  protocolRunId,
  stepRunId: 100,
})

const depsOver = (uow: FakeUnitOfWork): AppDeps => ({
  uow,
  repos: uow.repos,
  jobPolicy: { maxAttempts: 3 },
  abortRun: async () => undefined,
})

describe('protocol use cases over in-memory ports', () => {
  it('starting a pending run writes planning, its event and a plan job in one transaction', async () => {
    const { tables, runId } = seedRun('pending')
    const uow = createFakeUnitOfWork(tables)
    const result = await makeStartProtocol(depsOver(uow))(runId, ORIGIN)

    expect(uow.commits()).toBe(1)
    const after = uow.tables()
    expect(after.runs[0]?.status).toBe('planning')
    expect(after.events.map((e) => [e.eventType, e.metadata?.request_id])).toEqual([
      ['planning_enqueued', 'req-1'],
    ])
    expect(after.jobs.map((j) => [j.type, j.status, j.protocolRunId])).toEqual([
      ['plan_protocol_job', 'queued', runId],
    ])
    expect(result.job?.id).toBe(after.jobs[0]?.id)
  })

  it('starting a cancelled run is refused with ORC_INVALID_TRANSITION and writes nothing', async () => {
    const { tables, runId } = seedRun('cancelled')
    const uow = createFakeUnitOfWork(tables)

    const refusal = await makeStartProtocol(depsOver(uow))(runId, ORIGIN).catch((e: unknown) => e)

    expect(refusal).toBeInstanceOf(AppError)
    expect((refusal as AppError).code).toBe('ORC_INVALID_TRANSITION')
    // The plan job is written before the status check refuses: the rollback must drop it.
    expect(uow.commits()).toBe(0)
    expect(uow.tables()).toEqual(tables)
  })

  it('pausing then resuming a running run records both and ends running again', async () => {
    const { tables, runId } = seedRun('running', ['running'])
    tables.jobs.push(heldJob(runId))
    const uow = createFakeUnitOfWork(tables)
    const deps = depsOver(uow)

    expect((await makePauseProtocol(deps)(runId, ORIGIN)).status).toBe('paused')
    expect(uow.tables().runs[0]?.status).toBe('paused')
    // Pausing twice is a no-op without a second event.
    await makePauseProtocol(deps)(runId, ORIGIN)
    expect((await makeResumeProtocol(deps)(runId, ORIGIN)).status).toBe('running')

    expect(uow.tables().runs[0]?.status).toBe('running')
    expect(uow.tables().events.map((e) => e.eventType)).toEqual(['paused', 'resumed'])
    // What pause held back is queued again by the resume.
    expect(uow.tables().jobs.map((j) => j.status)).toEqual(['queued'])
  })

  it('resuming a run that is not paused is refused and writes nothing', async () => {
    const { tables, runId } = seedRun('running')
    const uow = createFakeUnitOfWork(tables)

    await expect(makeResumeProtocol(depsOver(uow))(runId, ORIGIN)).rejects.toMatchObject({
      code: 'ORC_INVALID_TRANSITION',
    })
    expect(uow.tables()).toEqual(tables)
  })

  it('approving the last step at needs_qa completes it and closes the run', async () => {
    const { tables, stepIds } = seedRun('running', ['completed', 'needs_qa'])
    const uow = createFakeUnitOfWork(tables)

    const approved = await makeApproveStep(depsOver(uow))(stepIds[1] ?? -1, ORIGIN)

    expect(approved.status).toBe('completed')
    const after = uow.tables()
    expect(after.steps.map((s) => s.status)).toEqual(['completed', 'completed'])
    expect(after.runs[0]?.status).toBe('completed')
    expect(after.events.map((e) => [e.eventType, e.stepRunId])).toEqual([
      ['manual_approval', stepIds[1]],
      ['protocol_completed', null],
    ])
  })

  it('approving a step leaves the run open while another step is unfinished', async () => {
    const { tables, runId, stepIds } = seedRun('running', ['needs_qa', 'pending'])
    const uow = createFakeUnitOfWork(tables)

    await makeApproveStep(depsOver(uow))(stepIds[0] ?? -1, ORIGIN)

    expect(uow.tables().runs.find((r) => r.id === runId)?.status).toBe('running')
    expect(uow.tables().events.map((e) => e.eventType)).toEqual(['manual_approval'])
  })
})
