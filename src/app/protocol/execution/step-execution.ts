import type { JsonObject } from '../../../domain/json.js'
import type { ResolvedStepPaths } from '../../../domain/spec-paths.js'
import { qaPolicyOf, type QaPolicy } from '../../../domain/spec.js'
import type { ChangeOrigin } from '../../context.js'
import type { LeftOutFile, WorktreeInfo } from '../../git.port.js'
import type { Repositories } from '../../ports.js'
import { applySuccessPolicies, policyDepsOf } from '../../policies.js'
import { maybeCompleteProtocol } from '../../steps/complete-protocol.js'
import type { EngineCallOutcome } from './engine-call.js'
import { fallbackMetadata } from './engine-chain-call.js'
import { enqueueStepJob } from '../../queue-runtime/enqueue.js'
import type { JobAttempt } from '../../queue-runtime/job-handler.js'
import { commitMessage } from '../commit-message.js'
import { appendProtocolLog } from '../protocol-files.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { runQualityCheck } from '../qa/quality-check.js'
import type { StepScope } from './step-context.js'
import { leftOutMetadata, moveStepWithRun } from './step-outcomes.js'

export interface ExecutionInput {
  readonly context: StepScope
  readonly worktree: WorktreeInfo
  readonly files: ResolvedStepPaths
  readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
  readonly job: JobAttempt
  readonly ctx: ChangeOrigin
}

/**
 * After a successful engine call: outputs and log.md written, everything committed, then in one
 * transaction the step's usage, head SHA and QA hand-off (skip → completed, light → inline QA,
 * full → needs_qa, with a run_quality_job when auto-QA is on).
 */
export const recordExecution = async (deps: ProtocolJobDeps, input: ExecutionInput): Promise<JsonObject> => {
  const { context, worktree, files, call, job } = input
  const answer = call.result.outputText.endsWith('\n')
    ? call.result.outputText
    : `${call.result.outputText}\n`
  deps.files.writeText(worktree.path, files.outputs.protocol, answer)
  for (const path of Object.values(files.outputs.aux)) deps.files.writeText(worktree.path, path, answer)
  const line = `${context.step.stepName}: executed with ${call.engineId}.`
  appendProtocolLog(deps.files, worktree.path, worktree.protocolRoot, line)
  const subject = `Execute ${context.step.stepName}`
  const { sha: commit, leftOut } = await deps.git.commitAll(
    worktree.path,
    commitMessage(context.run.protocolName, context.step.stepIndex, subject),
    job.signal,
  )
  const headSha = commit ?? (await deps.git.headSha(worktree.path, job.signal))
  const policy = qaPolicyOf(context.stepSpec)
  const outcome = await deps.uow.run((tx) =>
    recordInTransaction(deps, tx, input, { headSha, policy, leftOut }),
  )
  if (outcome === 'needs_qa' && policy === 'light') {
    const qa = await runQualityCheck(deps, context.step.id, job, true)
    return { outcome: 'executed', head_sha: headSha, qa }
  }
  return { outcome, head_sha: headSha, qa_policy: policy }
}

/**
 * The transaction after a successful engine call (also used by CodeMachine steps, which have no
 * commit and pass a null head): usage, then the QA hand-off by policy.
 */
export const recordInTransaction = async (
  deps: ProtocolJobDeps,
  tx: Repositories,
  { context, call, ctx }: Pick<ExecutionInput, 'context' | 'call' | 'ctx'>,
  {
    headSha,
    policy,
    leftOut = [],
  }: { headSha: string | null; policy: QaPolicy; leftOut?: readonly LeftOutFile[] },
): Promise<string> => {
  const tokens = call.promptTokens + call.completionTokens
  const costUsd = call.result.costUsd ?? 0
  const current = await tx.steps.findById(context.step.id)
  if (!current || current.status !== 'running') {
    // What the call spent counts even when its step has moved on.
    await tx.runs.addUsage(context.run.id, tokens, costUsd)
    return 'skipped'
  }
  const runUsage = { tokens, costUsd }
  const patch = {
    tokensUsed: current.tokensUsed + tokens,
    costUsd: current.costUsd + costUsd,
    headSha,
    engineId: call.engineId,
    model: call.model,
    summary: policy === 'skip' ? 'Executed; QA skipped by policy.' : 'Executed; pending QA.',
  }
  const metadata: JsonObject = {
    engine_id: call.engineId,
    model: call.model,
    estimated_tokens: call.estimate,
    prompt_tokens: call.promptTokens,
    completion_tokens: call.completionTokens,
    head_sha: headSha,
    qa_policy: policy,
    ...fallbackMetadata(call),
    ...leftOutMetadata(leftOut),
  }
  if (call.budgetWarning)
    await note(tx, context, 'budget_warning', { message: call.budgetWarning, origin: ctx })
  if (leftOut.length > 0) {
    const names = leftOut.map(({ path, reason }) => `${path} (${reason})`).join(', ')
    await note(tx, context, 'commit_files_left_out', {
      message: `Left out of the commit: ${names}`,
      origin: ctx,
      metadata: leftOutMetadata(leftOut),
    })
  }
  if (policy === 'skip') {
    const completed = await moveStepWithRun(tx, current.id, 'complete', {
      event: { type: 'step_completed', message: 'Step executed; QA skipped by policy.', metadata },
      origin: ctx,
      patch,
      runUsage,
    })
    await note(tx, context, 'qa_skipped_policy', { message: 'QA skipped (policy).', origin: ctx })
    await applySuccessPolicies(tx, policyDepsOf(deps), completed, 'qa_skipped_policy', ctx)
    await maybeCompleteProtocol(tx, context.run.id, ctx)
    return 'completed'
  }
  const message = policy === 'light' ? 'Step executed; inline QA running.' : 'Step executed; QA required.'
  const executed = await moveStepWithRun(tx, current.id, 'executed', {
    event: { type: 'step_completed', message, metadata },
    origin: ctx,
    patch,
    runUsage,
    // Its QA takes the worktree over; an inline (light) QA still runs in this job.
    endsWorkInWorktree: policy !== 'light',
  })
  await applySuccessPolicies(tx, policyDepsOf(deps), executed, 'exec_completed', ctx)
  if (policy === 'full' && deps.config.qa.autoAfterExec) await enqueueQa(deps, tx, context, ctx)
  return 'needs_qa'
}

const enqueueQa = async (deps: ProtocolJobDeps, tx: Repositories, context: StepScope, ctx: ChangeOrigin) => {
  const job = await enqueueStepJob(tx.jobs, 'run_quality_job', context.step, {
    projectId: context.run.projectId,
    origin: ctx,
    policy: {
      maxAttempts: deps.config.jobs.maxAttempts,
    },
  })
  await note(tx, context, 'qa_enqueued', {
    message: 'QA job enqueued after execution.',
    origin: ctx,
    metadata: { qa_job_id: job.id },
  })
}

const note = (
  tx: Repositories,
  context: StepScope,
  type: string,
  {
    message,
    origin: ctx,
    metadata = {},
  }: { readonly message: string; readonly origin: ChangeOrigin; readonly metadata?: JsonObject },
) =>
  tx.events.append({
    projectId: context.run.projectId,
    protocolRunId: context.run.id,
    stepRunId: context.step.id,
    eventType: type,
    message,
    metadata: { ...metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
