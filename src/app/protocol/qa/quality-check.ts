import { isCodeMachineRun } from '../../../domain/codemachine/codemachine-run.js'
import type { JsonObject } from '../../../domain/json.js'
import { qaPolicyOf } from '../../../domain/spec.js'
import type { ChangeOrigin } from '../../context.js'
import { applySuccessPolicies, policyDepsOf } from '../../policies.js'
import { maybeCompleteProtocol } from '../../steps/complete-protocol.js'
import { callEngine, chooseEngine, stepLogPath, type EngineCallOutcome } from '../execution/engine-call.js'
import {
  isQaParkedFor,
  parkIfChainLimited,
  parkStep,
  resumeParkedStep,
  usageLimitOf,
} from '../../runs/quota-parking.js'
import type { JobAttempt } from '../../queue-runtime/job-handler.js'
import { acquireRunLease } from '../../runs/run-lease.js'
import { worktreeBusy } from '../../runs/worktree-wait.js'
import { PermanentJobError } from '../../queue-runtime/job-handler.js'
import { codeMachineWorkspace, prepareWorkspace } from '../run-workspace.js'
import { qaPrompt } from './qa-prompt.js'
import { recordVerdict } from './record-qa-verdict.js'
import { jobContext } from '../job-origin.js'
import { recordInlineQaError } from './inline-qa.js'
import type { Repositories } from '../../ports.js'
import { isPathOutsideWorkspace, PATH_OUTSIDE_WORKSPACE } from '../../contained-files.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { readStepContext, type StepScope } from '../execution/step-context.js'
import { failStepAndBlockRun, moveStepWithRun } from '../execution/step-outcomes.js'

/**
 * The step to judge; a step this job parked on its QA engine's quota is back in `needs_qa`
 * (`engine_resumed`) when its job returns at the reset.
 */
const readQaContext = async (
  tx: Repositories,
  stepId: number,
  jobId: string,
  ctx: ChangeOrigin,
): Promise<StepScope | undefined> => {
  const context = await readStepContext(tx, stepId)
  if (!context || !isQaParkedFor(context.step, jobId)) return context
  return { ...context, step: await resumeParkedStep(tx, context, ctx) }
}

/**
 * The step to judge, read in one transaction with the run's worktree for a full QA: one agent per
 * worktree, as for an execution. While another step executes there, or another QA judges there,
 * the QA job waits queued (deferred, no attempt spent) rather than judging a tree that is changing
 * under it. Nothing is taken for a step that will not be judged, nor for an inline QA (its
 * execution job holds the worktree).
 */
const openQa = async (
  deps: ProtocolJobDeps,
  stepId: number,
  job: JobAttempt,
  inline: boolean,
  ctx: ChangeOrigin,
): Promise<StepScope | undefined> => {
  const opened = await deps.uow.run(async (tx) => {
    const context = await readQaContext(tx, stepId, job.jobId, ctx)
    if (!context || inline || !isJudged(context)) return { context }
    const want = { protocolRunId: context.run.id, stepRunId: context.step.id, jobId: job.jobId }
    return { context, lease: await acquireRunLease(tx, want, job.jobId) }
  })
  if (opened.lease?.acquired === false) throw worktreeBusy(opened.lease)
  return opened.context
}

/** A step in `needs_qa` whose policy does not skip QA: its QA agent will read the worktree. */
const isJudged = (context: StepScope): boolean =>
  context.step.status === 'needs_qa' && qaPolicyOf(context.stepSpec) !== 'skip'

/**
 * A full QA whose engine reported a usage limit does not judge the step: it waits in
 * `waiting_quota` for the reset and its job is deferred there (no attempt spent). An inline QA
 * (inside the execution's job) records the error and leaves the step in `needs_qa`, as before.
 */
const parkIfQaLimited = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  call: EngineCallOutcome,
  ctx: ChangeOrigin,
): Promise<void> => {
  const limit = call.kind === 'done' ? usageLimitOf(call.result, new Date()) : undefined
  if (!limit) return
  const quote = ` (${limit.quote})`
  await parkStep(
    deps,
    context,
    {
      phase: 'qa',
      engine: { engineId: call.engineId, model: call.model },
      resumeAt: limit.resumeAt,
      message: `QA engine ${call.engineId} reported a usage limit${quote}; QA of step ${context.step.stepName} resumes at ${limit.resumeAt.toISOString()}.`,
      metadata: { source: 'engine_output', quote: limit.quote, reset_printed: limit.printed },
    },
    ctx,
  )
}

/**
 * QA of a step awaiting it: QA prompt from the protocol files and git state, engine `qa` phase,
 * report written to `quality-report.md`, verdict → step completed (run maybe completed) or step
 * failed and run blocked. `inline` marks light-policy QA run right after execution.
 */
export const runQualityCheck = async (
  deps: ProtocolJobDeps,
  stepId: number,
  job: JobAttempt,
  inline: boolean,
): Promise<JsonObject> => {
  const ctx = jobContext(job.jobId)
  const context = await openQa(deps, stepId, job, inline, ctx)
  if (!context || context.step.status !== 'needs_qa')
    return { skipped: `step is ${context?.step.status ?? 'gone'}` }
  if (qaPolicyOf(context.stepSpec) === 'skip') return skipByPolicy(deps, context, ctx)
  const workspace = isCodeMachineRun(context.run)
    ? codeMachineWorkspace(deps.files, context.run)
    : await prepareWorkspace(deps, context, job.signal)
  if ('missing' in workspace) {
    const event = { type: 'qa_blocked_repo', message: workspace.missing }
    await deps.uow.run((tx) => failStepAndBlockRun(tx, stepId, event, ctx))
    return { outcome: 'failed', reason: 'qa_blocked_repo' }
  }
  const prompt = await refusedAsFailure(deps, context, ctx, () =>
    qaPrompt(deps, context, workspace.ok, inline, job.signal),
  )
  if (typeof prompt !== 'string') return prompt.failed
  const qaCall = {
    ...context,
    stepRun: context.step,
    phase: 'qa' as const,
    prompt,
    workingDir: workspace.ok.path,
    logPath: stepLogPath(deps, stepId),
    signal: job.signal,
    label: `QA of ${context.step.stepName}`,
  }
  if (!inline) await parkIfChainLimited(deps, context, [chooseEngine(deps, qaCall)], ctx, 'qa')
  const call = await callEngine(deps, qaCall)
  if (!inline) await parkIfQaLimited(deps, context, call, ctx)
  if (call.kind === 'budget') {
    const event = { type: 'budget_exceeded', message: call.message, metadata: { phase: 'qa' } }
    await deps.uow.run((tx) => failStepAndBlockRun(tx, stepId, event, ctx))
    throw new PermanentJobError(call.message, 'budget')
  }
  if (call.kind === 'failed' || !call.result.success) {
    const message =
      call.kind === 'failed' ? call.failure.message : `QA engine exited with ${String(call.result.exitCode)}`
    if (inline) {
      await recordInlineQaError(deps, context, workspace.ok, message, ctx)
      return { outcome: 'needs_qa', reason: 'qa_inline_error' }
    }
    await deps.uow.run((tx) => failStepAndBlockRun(tx, stepId, { type: 'qa_error', message }, ctx))
    return { outcome: 'failed', reason: 'qa_error' }
  }
  const input = { context, call, worktree: workspace.ok, inline }
  const recorded = await refusedAsFailure(deps, context, ctx, () => recordVerdict(deps, input, ctx))
  return 'failed' in recorded ? (recorded.failed as JsonObject) : recorded
}

/**
 * Runs `work`; a file of the workspace leading outside it fails the step and blocks the run
 * (`codemachine_step_failed` for a CodeMachine run, `qa_error` otherwise), never a silent skip.
 */
const refusedAsFailure = async <T>(
  deps: ProtocolJobDeps,
  context: StepScope,
  ctx: ChangeOrigin,
  work: () => Promise<T>,
): Promise<T | { failed: JsonObject }> => {
  try {
    return await work()
  } catch (error) {
    if (!isPathOutsideWorkspace(error)) throw error
    const type = isCodeMachineRun(context.run) ? 'codemachine_step_failed' : 'qa_error'
    const cause = String(error.details?.cause ?? PATH_OUTSIDE_WORKSPACE)
    const metadata = { cause, phase: 'qa', step_name: context.step.stepName }
    const event = { type, message: `Refused: ${error.message}`, metadata }
    await deps.uow.run((tx) => failStepAndBlockRun(tx, context.step.id, event, ctx))
    return { failed: { outcome: 'failed', reason: cause } }
  }
}

const skipByPolicy = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  await deps.uow.run(async (tx) => {
    const moved = await moveStepWithRun(tx, context.step.id, 'complete', {
      event: { type: 'qa_skipped_policy', message: 'QA skipped (policy).' },
      origin: ctx,
    })
    if (moved?.step.status === 'completed')
      await applySuccessPolicies(tx, policyDepsOf(deps), moved, 'qa_skipped_policy', ctx)
    await maybeCompleteProtocol(tx, context.run.id, ctx)
  })
  return { outcome: 'completed', qa: 'skipped' }
}
