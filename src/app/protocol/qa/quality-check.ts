import { basename, join } from 'node:path'
import { isCodeMachineRun } from '../../../domain/codemachine/codemachine-run.js'
import type { JsonObject } from '../../../domain/json.js'
import { reviewStepBrief } from '../../../domain/review-feedback.js'
import { resolveSpecPath } from '../../../domain/spec-paths.js'
import { qaPolicyOf } from '../../../domain/spec.js'
import { parseVerdict } from '../../../domain/verdict.js'
import type { ChangeOrigin } from '../../context.js'
import type { WorktreeInfo } from '../../git.port.js'
import { applySuccessPolicies, policyDepsOf } from '../../policies.js'
import { maybeCompleteProtocol } from '../../steps/complete-protocol.js'
import { codeMachineStepPaths, findCodeMachineAgent } from '../codemachine/codemachine-paths.js'
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
import { rememberQaFailure } from './qa-failure.js'
import { codeMachineWorkspace, prepareWorkspace } from '../run-workspace.js'
import { jobContext } from '../job-origin.js'
import { loadPrompt, promptSections } from '../prompt-templates.js'
import { qaAnswerInstruction, qaOutcomeWords, recordInlineQaError } from './inline-qa.js'
import type { Repositories } from '../../ports.js'
import { isPathOutsideWorkspace, PATH_OUTSIDE_WORKSPACE, type ContainedFiles } from '../../contained-files.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { readStepContext, type StepScope } from '../execution/step-context.js'
import { failStepAndBlockRun, failStepLoopOrBlock, moveStep } from '../execution/step-outcomes.js'

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
    return { context, lease: await acquireRunLease(tx, want) }
  })
  if (opened.lease?.acquired === false) throw worktreeBusy(opened.lease.holder)
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
    const step = await moveStep(tx, context.step.id, 'complete', {
      event: { type: 'qa_skipped_policy', message: 'QA skipped (policy).' },
      origin: ctx,
    })
    if (step?.status === 'completed')
      await applySuccessPolicies(tx, policyDepsOf(deps), step, 'qa_skipped_policy', ctx)
    await maybeCompleteProtocol(tx, context.run.id, ctx)
  })
  return { outcome: 'completed', qa: 'skipped' }
}

/** The QA prompt: the step's own QA prompt file or our template, then the material to judge. */
const qaPrompt = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  worktree: WorktreeInfo,
  inline: boolean,
  signal: AbortSignal,
): Promise<string> => {
  const root = worktree.protocolRoot
  const read = (path: string, fallback: string): string => deps.files.readText(worktree.path, path, fallback)
  // A CodeMachine template names its QA prompt inside `.codemachine/` (the run's protocol root).
  const promptRoot = isCodeMachineRun(context.run) ? (context.run.protocolRoot ?? root) : root
  const roots = { protocolRoot: promptRoot, workspace: worktree.path }
  const custom = context.stepSpec.qa.prompt
    ? resolveSpecPath(context.stepSpec.qa.prompt, roots, deps.files)
    : undefined
  const head =
    custom && 'path' in custom
      ? read(custom.path, loadPrompt(deps.assets, 'qa').text)
      : loadPrompt(deps.assets, 'qa').text
  return promptSections(head, [
    ['Plan (plan.md)', read(join(root, 'plan.md'), '(none)')],
    ['Context (context.md)', read(join(root, 'context.md'), '(none)')],
    ['Log (log.md)', read(join(root, 'log.md'), '(none)')],
    ...stepSections(deps.files, context, worktree),
    ['git status --porcelain', (await deps.git.statusPorcelain(worktree.path, signal)) || '(clean)'],
    ['Last commit', (await deps.git.lastCommitSubject(worktree.path, signal)) ?? '(none)'],
    ['Answer', qaAnswerInstruction(inline)],
  ])
}

/**
 * What the step was asked (its step file) and, for a CodeMachine step, the agent's answer: its
 * prompt lives in `.codemachine/` and its work is the answer file, not a commit.
 */
const stepSections = (
  files: ContainedFiles,
  context: StepScope,
  worktree: WorktreeInfo,
): Array<[string, string]> => {
  const read = (path: string, fallback: string): string => files.readText(worktree.path, path, fallback)
  const title = `Step file (${context.step.stepName})`
  const agent = isCodeMachineRun(context.run) ? findCodeMachineAgent(context) : undefined
  if (agent) {
    const paths = codeMachineStepPaths(context, agent, worktree.path, files)
    if ('error' in paths) return [[title, '(missing)']]
    return [
      [title, read(paths.promptPath, '(missing)')],
      [`Agent answer (${basename(paths.outputs.protocol)})`, read(paths.outputs.protocol, '(none)')],
    ]
  }
  const roots = { protocolRoot: worktree.protocolRoot, workspace: worktree.path }
  const stepFile = resolveSpecPath(context.stepSpec.prompt_ref, roots, files)
  const missing = reviewStepBrief(context.step, { comments: true }) ?? '(missing)'
  return [[title, 'path' in stepFile ? read(stepFile.path, missing) : missing]]
}

interface VerdictInput {
  readonly context: StepScope
  readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
  readonly worktree: WorktreeInfo
  readonly inline: boolean
}

/** Writes the report, counts the verdict, and completes or fails the step in one transaction. */
const recordVerdict = async (
  deps: ProtocolJobDeps,
  { context, call, worktree, inline }: VerdictInput,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  const report = call.result.outputText
  const { path: workspace, protocolRoot } = worktree
  const reportText = report.endsWith('\n') ? report : `${report}\n`
  deps.files.writeText(workspace, join(protocolRoot, 'quality-report.md'), reportText)
  const verdict = parseVerdict(report)
  const words = qaOutcomeWords(verdict.verdict, inline)
  const line = `${context.step.stepName}: ${words.summary} (${call.model ?? call.engineId}).`
  deps.files.writeText(
    workspace,
    join(protocolRoot, 'log.md'),
    `\n- ${new Date().toISOString()} ${line}\n`,
    true,
  )
  deps.counters.qaVerdict(verdict.verdict)
  const tokens = call.promptTokens + call.completionTokens
  const metadata: JsonObject = {
    verdict: verdict.verdict,
    verdict_line: verdict.line,
    report: reportForEvent(report),
    inline,
    engine_id: call.engineId,
    model: call.model,
  }
  await deps.uow.run(async (tx) => {
    await tx.runs.addUsage(context.run.id, tokens, call.result.costUsd ?? 0)
    if (await verdictIsStale(tx, context, metadata, ctx)) return
    if (verdict.verdict === 'PASS') {
      const event = { type: words.type, message: words.message, metadata }
      const step = await moveStep(tx, context.step.id, 'complete', {
        event,
        origin: ctx,
        patch: { summary: words.summary },
      })
      if (step?.status === 'completed')
        await applySuccessPolicies(tx, policyDepsOf(deps), step, 'qa_passed', ctx)
      await maybeCompleteProtocol(tx, context.run.id, ctx)
    } else {
      await rememberQaFailure(tx, context.step.id, report)
      const event = { type: words.type, message: words.message, metadata }
      await failStepLoopOrBlock(tx, policyDepsOf(deps), context.step.id, {
        event,
        reason: 'qa_failed',
        origin: ctx,
      })
    }
  })
  return { outcome: verdict.verdict === 'PASS' ? 'completed' : 'failed', verdict: verdict.verdict }
}

/**
 * A verdict judges the step as it was when QA began. If the step has left `needs_qa` since (reset
 * and re-run by a policy, judged by another QA job, cancelled), the verdict is recorded and moves
 * nothing.
 */
const verdictIsStale = async (
  tx: Repositories,
  context: StepScope,
  metadata: JsonObject,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  const step = await tx.steps.findById(context.step.id)
  if (step?.status === 'needs_qa') return false
  await tx.events.append({
    projectId: context.run.projectId,
    protocolRunId: context.run.id,
    stepRunId: context.step.id,
    eventType: 'qa_verdict_discarded',
    message: `QA verdict ${String(metadata.verdict)} discarded: the step is ${step?.status ?? 'gone'} now.`,
    metadata: { ...metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
  return true
}

/** Enough of the report for the console and CLI to show it, bounded so an event stays small. */
const REPORT_EVENT_CHARS = 20_000

/**
 * `quality-report.md` is overwritten by the next step's QA, so the event keeps this step's copy.
 */
const reportForEvent = (report: string): string =>
  report.length <= REPORT_EVENT_CHARS
    ? report
    : `${report.slice(0, REPORT_EVENT_CHARS)}\n\n… (truncated; ${report.length} characters in all)\n`
