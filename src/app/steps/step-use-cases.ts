import { AppError } from '../../domain/app-error.js'
import type { JsonValue } from '../../domain/json.js'
import { engineChainIssue, toEngineChain } from '../../domain/engine-chain.js'
import { modelNameProblem, refuseModelIssue } from '../../domain/model-name.js'
import { isTerminalProtocolStatus, type StepStatus } from '../../domain/statuses.js'
import type { StepRun } from '../../domain/step-run.js'
import { nextProtocolStatus } from '../../domain/transitions.js'
import { runEventMetadata } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import { authorizedListing, authorizeRun, authorizeRunListing, authorizeStep, readerOf } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import { enqueueStepJob } from '../queue-runtime/enqueue.js'
import type { ActionResult } from '../protocols/protocol-actions.js'
import { startStep } from '../protocols/start-step.js'
import { changeStepStatus } from '../state-changes.js'
import { maybeCompleteProtocol } from './complete-protocol.js'

export interface CreateStepInput {
  readonly stepIndex: number
  readonly stepName: string
  readonly stepType: string
  readonly status: StepStatus
  readonly model: string | null
  readonly summary: string | null
  readonly engineId: string | null
  /** Engine/model fallback chain, as the caller sent it (checked here). */
  readonly engines?: JsonValue | null
  readonly policy: JsonValue | null
}

type Deps = Pick<AppDeps, 'uow' | 'repos' | 'jobPolicy'>

/** Adds a step to a run that is not terminal; step names are unique within a run (409). */
export const makeCreateStep =
  ({ uow, engineIds }: Deps & { readonly engineIds: readonly string[] }) =>
  (runId: number, input: CreateStepInput, ctx: ChangeOrigin): Promise<StepRun> =>
    uow.run(async (tx) => {
      const authorized = await authorizeRun(tx, runId, ctx)
      // Read again, locked: a run closing meanwhile is seen closed, or lists the new step.
      const run = (await tx.runs.lockById(runId)) ?? authorized.run
      if (isTerminalProtocolStatus(run.status)) {
        throw new AppError('ORC_INVALID_TRANSITION', `Protocol already terminal (${run.status})`)
      }
      const problem = input.model === null ? undefined : modelNameProblem(input.model)
      refuseModelIssue(problem === undefined ? undefined : { field: 'model', problem })
      refuseModelIssue(engineChainIssue(input.engines, 'engines', engineIds))
      return tx.steps.create({
        protocolRunId: runId,
        ...input,
        engines: toEngineChain(input.engines) ?? null,
      })
    })

export const makeListSteps =
  ({ repos }: Deps) =>
  async (runId: number, ctx: ChangeOrigin): Promise<StepRun[]> => {
    const steps = await repos.steps.listByRunFor(runId, readerOf(ctx))
    return authorizedListing(steps, () => authorizeRunListing(repos, runId, ctx))
  }

export const makeGetStep =
  ({ repos }: Deps) =>
  async (stepId: number, ctx: ChangeOrigin): Promise<StepRun> =>
    (await authorizeStep(repos, stepId, ctx)).step

export const makeRunStep =
  (deps: Deps) =>
  (stepId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    deps.uow.run(async (tx) => {
      const { run, step } = await authorizeStep(tx, stepId, ctx)
      const event = { type: 'step_enqueued', message: 'Step execution enqueued.' }
      const job = await startStep(tx, deps, run, { step, start: { action: 'run', event }, origin: ctx })
      return { message: 'Step execution enqueued', job }
    })

/** Sends a step to QA: the step → needs_qa and a QA job, unless the run refuses new work. */
export const makeRunQa =
  ({ uow, jobPolicy }: Deps) =>
  (stepId: number, ctx: ChangeOrigin): Promise<ActionResult> =>
    uow.run(async (tx) => {
      const { run, step } = await authorizeStep(tx, stepId, ctx)
      nextProtocolStatus(run.status, 'run')
      const job = await enqueueStepJob(tx.jobs, 'run_quality_job', step, {
        projectId: run.projectId,
        origin: ctx,
        policy: jobPolicy,
      })
      const event = {
        type: 'qa_enqueued',
        message: 'QA run enqueued.',
        metadata: runEventMetadata(run, { job_id: job.id }),
      }
      await changeStepStatus(tx, run, step, { action: 'request_qa', event, origin: ctx })
      return { message: 'QA enqueued', job }
    })

/** Marks a step completed by hand (from needs_qa, blocked, failed or pending), then maybe closes the run. */
export const makeApproveStep =
  ({ uow }: Deps) =>
  (stepId: number, ctx: ChangeOrigin): Promise<StepRun> =>
    uow.run(async (tx) => {
      const { run, step } = await authorizeStep(tx, stepId, ctx)
      // Locked before the step, the order of every step move and of a CI notice.
      await tx.runs.lockById(run.id)
      const event = {
        type: 'manual_approval',
        message: 'Step marked as completed manually.',
        metadata: runEventMetadata(run),
      }
      const approved = await changeStepStatus(tx, run, step, { action: 'approve', event, origin: ctx })
      await maybeCompleteProtocol(tx, run.id, ctx)
      return approved
    })
