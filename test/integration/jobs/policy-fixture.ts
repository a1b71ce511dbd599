import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createUnitOfWork } from '../../../src/adapters/storage/unit-of-work.js'
import { createExecuteStepHandler } from '../../../src/app/protocol/execution/execute-step.job.js'
import { createPlanProtocolHandler } from '../../../src/app/protocol/planning/plan-protocol.job.js'
import type { ProtocolJobDeps } from '../../../src/app/protocol/protocol-job-deps.js'
import { createRunQualityHandler } from '../../../src/app/protocol/qa/run-quality.job.js'
import { changeStepStatus } from '../../../src/app/state-changes.js'
import type { JsonValue } from '../../../src/domain/json.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'
import { readState, seedPlanningRun, startStep } from './protocol-fixture.js'

/** A run planned by the demo agent: steps 00-setup.md, 01-implement.md, 02-document.md. */
export const plannedRun = async (
  handle: DatabaseHandle,
  root: string,
  deps: ProtocolJobDeps,
  name: string,
) => {
  const { run } = await seedPlanningRun(handle, root, name)
  await createPlanProtocolHandler(deps)({ protocol_run_id: run.id, job_id: `plan-${name}` }, jobRun())
  return readState(handle, run.id)
}

/** Protocol names numbered in the order a suite asks for them: `0001-<label>`, `0002-<label>`… */
export const numberedNames = (): ((label: string) => string) => {
  let seq = 0
  return (label) => `${String(++seq).padStart(4, '0')}-${label}`
}

/**
 * A planned run whose step 01 carries `policy` and has been executed by the passing agent after
 * step 00 was approved: step 01 waits for QA. `qa` is deps whose agent answers QA with `qaArgs`.
 */
export const executedStepWithPolicy = async (
  handle: DatabaseHandle,
  root: string,
  run: { readonly name: string; readonly policy: JsonValue; readonly qaArgs: readonly string[] },
) => {
  const pass = makeJobDeps(handle, root)
  const qa = makeJobDeps(handle, root, { agentArgs: run.qaArgs })
  const planned = await plannedRun(handle, root, pass, run.name)
  const [setup, implement] = planned.steps
  await setPolicy(handle, implement!.id, run.policy)
  await approve(handle, setup!.id)
  const { run: current, steps } = await readState(handle, planned.run.id)
  await startStep(handle, current, steps[1]!)
  await createExecuteStepHandler(pass)({ step_run_id: implement!.id, job_id: 'x' }, jobRun())
  return { pass, qa, runId: current.id, setup: setup!, implement: implement! }
}

export const setPolicy = (handle: DatabaseHandle, stepId: number, policy: JsonValue) =>
  createUnitOfWork(handle.db).run((tx) => tx.steps.update(stepId, { policy }))

/** Marks a step completed by hand (what `POST /steps/{id}/actions/approve` does). */
export const approve = (handle: DatabaseHandle, stepId: number) =>
  createUnitOfWork(handle.db).run(async (tx) => {
    const step = (await tx.steps.findById(stepId))!
    const run = (await tx.runs.findById(step.protocolRunId))!
    return changeStepStatus(tx, run, step, {
      action: 'approve',
      event: { type: 'manual_approval', message: 'test' },
      origin: {},
    })
  })

/** Queued execute jobs of a step, oldest first (what the outbox would deliver). */
export const queuedExecutions = async (handle: DatabaseHandle, stepId: number) =>
  (await createUnitOfWork(handle.db).run((tx) => tx.jobs.list({ status: 'queued', limit: 100 })))
    .filter((job) => job.type === 'execute_step_job' && job.stepRunId === stepId)
    .reverse()

const delivered = new Set<string>()

/** Delivers the step's one queued, not yet delivered execute job to the handler, as the queue would. */
export const deliverExecution = async (handle: DatabaseHandle, deps: ProtocolJobDeps, stepId: number) => {
  const pending = (await queuedExecutions(handle, stepId)).filter((job) => !delivered.has(job.id))
  const [job, ...others] = pending
  if (!job || others.length > 0) throw new Error(`expected one new queued execution of step ${stepId}`)
  delivered.add(job.id)
  return createExecuteStepHandler(deps)({ step_run_id: stepId, job_id: job.id }, jobRun(undefined, job.id))
}

export const runQa = (deps: ProtocolJobDeps, stepId: number) =>
  createRunQualityHandler(deps)({ step_run_id: stepId, job_id: 'qa' }, jobRun())

/** The run's events, oldest first, with their step ids and metadata. */
export const runEvents = (handle: DatabaseHandle, runId: number) =>
  createUnitOfWork(handle.db).run((tx) => tx.events.list({ protocolRunId: runId, limit: 500, order: 'asc' }))

export const countOf = (types: readonly string[], type: string) => types.filter((t) => t === type).length
