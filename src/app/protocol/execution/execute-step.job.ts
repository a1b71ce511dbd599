import { isCodeMachineRun } from '../../../domain/codemachine/codemachine-run.js'
import type { JsonObject } from '../../../domain/json.js'
import { retryFeedbackSections } from '../../../domain/retry-feedback.js'
import { reviewFeedbackSections, reviewStepBrief } from '../../../domain/review-feedback.js'
import { mergeConflictSections } from '../../../domain/merge-conflict.js'
import { isPathOutsideWorkspace } from '../../contained-files.js'
import type { ChangeOrigin } from '../../context.js'
import type { ResolvedStepPaths } from '../../../domain/spec-paths.js'
import type { WorktreeInfo } from '../../git.port.js'
import { executeCodeMachineStep } from '../codemachine/codemachine-step.js'
import { stepLogPath, type EngineCallOutcome } from './engine-call.js'
import { callEngineChain, stepEngineChain } from './engine-chain-call.js'
import type { JobHandler, JobAttempt } from '../../queue-runtime/job-handler.js'
import { PermanentJobError } from '../../queue-runtime/job-handler.js'
import { parkIfChainLimited } from '../../runs/quota-parking.js'
import { worktreeBusy } from '../../runs/worktree-wait.js'
import { interruptedAttemptSections, recordResumedAttempt } from '../../runs/interrupted-attempt.js'
import { jobContext } from '../job-origin.js'
import { prepareWorkspace } from '../run-workspace.js'
import { loadPrompt, promptSections } from '../prompt-templates.js'
import { policyDepsOf } from '../../policies.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { claimStep } from './step-claim.js'
import type { StepScope } from './step-context.js'
import { resolveStepFiles } from './step-context.js'
import { recordExecution } from './step-execution.js'
import { failStepAndBlockRun, failStepLoopOrBlock } from './step-outcomes.js'
import { join } from 'node:path'

/**
 * execute_step_job: claims the running step, runs its engine in the worktree (budget checked,
 * output streamed to the step's log file), writes outputs, commits, and hands the step to QA by
 * its policy. Engine failures fail the step and block the run.
 */
export const createExecuteStepHandler =
  (deps: ProtocolJobDeps): JobHandler<'execute_step_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const logPath = stepLogPath(deps, payload.step_run_id)
    const claim = await deps.uow.run((tx) => claimStep(tx, payload.step_run_id, job.jobId, logPath, ctx))
    if ('skipped' in claim) return { skipped: claim.skipped }
    if ('waiting' in claim) throw worktreeBusy(claim.waiting)
    const context = claim.claimed
    if (isCodeMachineRun(context.run)) return executeCodeMachineStep(deps, context, job, logPath, ctx)
    const workspace = await prepareWorkspace(deps, context, job.signal)
    if ('missing' in workspace)
      return stop(deps, context, { type: 'repo_missing', message: workspace.missing }, ctx)
    const files = resolveStepFiles(context, workspace.ok, deps.files)
    if ('errors' in files) {
      const message = `Spec validation failed: ${files.errors.join('; ')}`
      return stop(deps, context, { type: 'spec_validation_error', message }, ctx)
    }
    const prompt = refusedRead(() =>
      executePrompt(deps, { context, worktree: workspace.ok, paths: files, job }),
    )
    if (typeof prompt !== 'string') return stop(deps, context, prompt, ctx)
    const input = {
      ...context,
      stepRun: context.step,
      phase: 'execute' as const,
      prompt,
      workingDir: workspace.ok.path,
      logPath,
      signal: job.signal,
      label: `step ${context.step.stepName}`,
      sessionJobId: job.jobId,
    }
    const breakers = await parkIfChainLimited(deps, context, stepEngineChain(deps, input), ctx)
    await recordResumedAttempt(deps, context, job, ctx)
    const call = await callEngineChain(deps, context, input, ctx, breakers)
    return afterCall(deps, context, workspace.ok, { files, call, job, origin: ctx })
  }

const afterCall = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  worktree: WorktreeInfo,
  {
    files,
    call,
    job,
    origin: ctx,
  }: {
    readonly files: ResolvedStepPaths
    readonly call: EngineCallOutcome
    readonly job: JobAttempt
    readonly origin: ChangeOrigin
  },
): Promise<JsonObject> => {
  if (call.kind === 'budget') {
    const metadata = { phase: 'execute', estimated_tokens: call.estimate, model: call.model }
    await stop(deps, context, { type: 'budget_exceeded', message: call.message, metadata }, ctx)
    throw new PermanentJobError(call.message, 'budget')
  }
  if (call.kind === 'failed')
    return stop(deps, context, { type: call.failure.eventType, ...call.failure }, ctx, 'exec_failed')
  if (!call.result.success) {
    const tail = call.result.stderrTail.trim().split('\n').slice(-3).join(' | ')
    const message = `Execution error: the engine exited with ${String(call.result.exitCode)}${tail ? ` (${tail})` : ''}`
    return stop(
      deps,
      context,
      { type: 'step_execution_failed', message, metadata: { exit_code: call.result.exitCode } },
      ctx,
      'exec_failed',
    )
  }
  return recordExecution(deps, { context, worktree, files, call, job, ctx })
}

/**
 * The step fails and the run blocks; an engine failure (`exec_failed`) first lets the step's loop
 * policies send the run back. Setup problems (repository, spec, budget) never loop: they would
 * fail the same way again.
 */
const stop = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  event: { type: string; message: string; metadata?: JsonObject },
  ctx: ChangeOrigin,
  reason?: 'exec_failed',
): Promise<JsonObject> => {
  await deps.uow.run((tx) =>
    reason
      ? failStepLoopOrBlock(tx, policyDepsOf(deps), context.step.id, { event, reason, origin: ctx })
      : failStepAndBlockRun(tx, context.step.id, event, ctx),
  )
  return { outcome: 'failed', reason: event.type }
}

/**
/**
 * Runs `read`; a file of the worktree the contained reader refuses (a link outside, a FIFO, over
 * the cap) becomes the step's failure event naming the file and why, never its content.
 */
const refusedRead = (
  read: () => string,
): string | { type: string; message: string; metadata: JsonObject } => {
  try {
    return read()
  } catch (error) {
    if (!isPathOutsideWorkspace(error)) throw error
    const metadata = { cause: String(error.details?.cause), path: String(error.details?.path) }
    return { type: 'step_file_refused', message: `Refused: ${error.message}`, metadata }
  }
}

/** The step file; a step appended for review comments has none and stands on its brief. */
const stepText = (
  files: ProtocolJobDeps['files'],
  context: StepScope,
  worktree: WorktreeInfo,
  paths: ResolvedStepPaths,
): string => {
  const brief = reviewStepBrief(context.step)
  return brief === undefined
    ? files.readText(worktree.path, paths.promptPath)
    : files.readText(worktree.path, paths.promptPath, brief)
}

/**
 * Our execute template, the protocol, its plan, the step file, what broke last time, and whether
 * the previous attempt was interrupted.
 */
const executePrompt = (
  { files, assets }: Pick<ProtocolJobDeps, 'files' | 'assets'>,
  {
    context,
    worktree,
    paths,
    job,
  }: { context: StepScope; worktree: WorktreeInfo; paths: ResolvedStepPaths; job: JobAttempt },
): string =>
  promptSections(loadPrompt(assets, 'execute').text, [
    ['Protocol', `Name: ${context.run.protocolName}\nWorktree: ${worktree.path}`],
    ['Plan (plan.md)', files.readText(worktree.path, join(worktree.protocolRoot, 'plan.md'), '(no plan.md)')],
    ['Step', `Step file: ${context.step.stepName}\n\n${stepText(files, context, worktree, paths)}`],
    ...retryFeedbackSections(context.step),
    ...interruptedAttemptSections(job),
    ...reviewFeedbackSections(context.step),
    ...mergeConflictSections(context.step),
  ])
