import { outcomeOf, type CiNotice } from '../../domain/ci-notice.js'
import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { isTerminalProtocolStatus } from '../../domain/statuses.js'
import type { StepRun } from '../../domain/step-run.js'
import { canProtocol, canStep } from '../../domain/transitions.js'
import type { AppDeps } from '../app-deps.js'
import { appendRunEvent } from '../api-events.js'
import type { ChangeOrigin } from '../context.js'
import { enqueueStepJob } from '../queue-runtime/enqueue.js'
import { applyFailurePolicies, applySuccessPolicies, type PolicyDeps } from '../policies.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus, changeStepStatus } from '../state-changes.js'
import { maybeCompleteProtocol } from '../steps/complete-protocol.js'

export interface CiPolicy {
  readonly autoQaOnCi: boolean
  /** `TASKSGODZILLA_MAX_INLINE_TRIGGER_DEPTH`, for the trigger policies a CI pass may fire. */
  readonly maxInlineTriggerDepth: number
}

type CiDeps = Pick<AppDeps, 'jobPolicy'> & CiPolicy

const policyDeps = (deps: CiDeps): PolicyDeps => ({
  jobPolicy: deps.jobPolicy,
  maxTriggerDepth: deps.maxInlineTriggerDepth,
})

/**
 * Applies a CI result to its run, inside the caller's transaction: a merge completes the run once;
 * a pass, a failure or progress applies only to the step whose recorded head SHA matches (or, with
 * no SHA, the step executed last), only while that step is not cancelled and the run is not
 * terminal. Everything else is recorded and changes nothing. Returns whether the run merged.
 * The run is read again, locked, so its status is the one current when this transaction decides.
 */
export const applyCiNotice = async (
  tx: Repositories,
  deps: CiDeps,
  correlated: ProtocolRun,
  notice: CiNotice,
  ctx: ChangeOrigin,
): Promise<{ merged: boolean }> => {
  // Locked before its steps are read, as maybeCompleteProtocol locks it: a failure reopening a
  // completed step is then never missed by a transaction closing the run over the same steps.
  const run = (await tx.runs.lockById(correlated.id)) ?? correlated
  const steps = await tx.steps.listByRun(run.id)
  const step = targetStep(steps, notice.sha)
  await appendRunEvent(tx, run, mainEvent(notice, run, step), ctx, step?.id)
  if (notice.merged) return { merged: await applyMerge(tx, run, notice, ctx) }
  const outcome = outcomeOf(notice)
  if (outcome === 'none') return { merged: false }
  const ignored = ignoreReason(run, step, notice)
  if (ignored !== undefined || step === undefined) {
    await appendRunEvent(
      tx,
      run,
      { type: 'ci_result_ignored', message: ignored ?? 'No executed step to apply it to.' },
      ctx,
    )
    return { merged: false }
  }
  if (outcome === 'success') await applySuccess(tx, deps, run, { step, notice, origin: ctx })
  if (outcome === 'failure') await applyFailure(tx, deps, run, { step, notice, origin: ctx })
  if (outcome === 'running' && (step.status === 'running' || step.status === 'needs_qa')) {
    await tx.steps.update(step.id, { summary: 'CI running' })
  }
  return { merged: false }
}

const targetStep = (steps: readonly StepRun[], sha: string | null): StepRun | undefined => {
  if (sha !== null)
    return steps.find((s) => s.headSha !== null && (s.headSha.startsWith(sha) || sha.startsWith(s.headSha)))
  const executed = steps.filter((s) => s.headSeq !== null)
  return executed.reduce<StepRun | undefined>(
    (last, s) => (last === undefined || s.headSeq! > last.headSeq! ? s : last),
    undefined,
  )
}

const ignoreReason = (run: ProtocolRun, step: StepRun | undefined, notice: CiNotice): string | undefined => {
  if (isTerminalProtocolStatus(run.status))
    return `Run is ${run.status}; CI result recorded, nothing changed.`
  if (step === undefined) {
    return notice.sha === null
      ? 'No step of this run has been executed yet; nothing changed.'
      : `No step of this run produced commit ${notice.sha.slice(0, 12)}; nothing changed.`
  }
  if (step.status === 'cancelled') return `Step ${step.stepName} was cancelled; nothing changed.`
  return undefined
}

const applyMerge = async (
  tx: Repositories,
  run: ProtocolRun,
  notice: CiNotice,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  const github = notice.provider === 'github'
  if (!canProtocol(run.status, 'merge')) {
    const message = `${github ? 'PR' : 'Merge request'} merged; run already ${run.status}, nothing changed.`
    await appendRunEvent(tx, run, { type: 'merge_ignored', message }, ctx)
    return false
  }
  const event = github
    ? {
        type: 'pr_merged',
        message: 'PR merged; protocol completed',
        metadata: { pr_number: notice.prNumber },
      }
    : {
        type: 'mr_merged',
        message: 'Merge request merged; protocol completed',
        metadata: { pr_number: notice.prNumber },
      }
  await changeRunStatus(tx, run, 'merge', { event, origin: ctx })
  return true
}

const applySuccess = async (
  tx: Repositories,
  deps: CiDeps,
  run: ProtocolRun,
  {
    step,
    notice,
    origin: ctx,
  }: { readonly step: StepRun; readonly notice: CiNotice; readonly origin: ChangeOrigin },
): Promise<void> => {
  if (deps.autoQaOnCi && canStep(step.status, 'request_qa')) {
    const job = await enqueueStepJob(tx.jobs, 'run_quality_job', step, {
      projectId: run.projectId,
      origin: ctx,
      policy: deps.jobPolicy,
    })
    const metadata = { job_id: job.id, source: 'ci_webhook', provider: notice.provider }
    const event = { type: 'qa_enqueued', message: 'QA enqueued after CI success.', metadata }
    await changeStepStatus(tx, run, step, {
      action: 'request_qa',
      event,
      origin: ctx,
      patch: { summary: 'CI passed; running QA' },
    })
  } else if (canStep(step.status, 'complete')) {
    const event = { type: 'ci_passed', message: `CI passed; step ${step.stepName} completed.` }
    const completed = await changeStepStatus(tx, run, step, {
      action: 'complete',
      event,
      origin: ctx,
      patch: { summary: 'CI passed' },
    })
    // The run as read at the start of this transaction: moving its step changed nothing of it.
    await applySuccessPolicies(tx, policyDeps(deps), { step: completed, run }, 'ci_passed', ctx)
    await maybeCompleteProtocol(tx, run.id, ctx)
  }
}

const applyFailure = async (
  tx: Repositories,
  deps: CiDeps,
  run: ProtocolRun,
  {
    step,
    notice,
    origin: ctx,
  }: { readonly step: StepRun; readonly notice: CiNotice; readonly origin: ChangeOrigin },
): Promise<void> => {
  if (!canStep(step.status, 'ci_fail')) return
  const failure: JsonObject = {
    provider: notice.provider,
    event: notice.event,
    sha: notice.sha,
    ...notice.details,
  }
  const stepEvent = { type: 'ci_failed', message: `CI failed on step ${step.stepName}.`, metadata: failure }
  await changeStepStatus(tx, run, step, {
    action: 'ci_fail',
    event: stepEvent,
    origin: ctx,
    patch: { summary: 'CI failed' },
  })
  await tx.steps.mergeRuntimeState(step.id, { ci_failure: failure })
  if (await applyFailurePolicies(tx, policyDeps(deps), step.id, 'ci_failed', ctx)) return
  if (!canProtocol(run.status, 'block')) return
  const metadata: JsonObject =
    notice.provider === 'github'
      ? { conclusion: notice.conclusion }
      : { status: notice.status, ref: notice.branch }
  await changeRunStatus(tx, run, 'block', {
    event: { type: notice.event, message: 'CI failed; protocol blocked', metadata },
    origin: ctx,
  })
}

const mainEvent = (notice: CiNotice, run: ProtocolRun, step: StepRun | undefined) => {
  const show = (value: string | number | null) => (value === null ? '-' : String(value))
  const message =
    notice.provider === 'github'
      ? `GitHub webhook ${notice.event} action=${show(notice.action)} branch=${show(notice.branch)} conclusion=${show(notice.conclusion)} status=${show(notice.status)} pr=${show(notice.prNumber)}`
      : `GitLab webhook ${notice.event} status=${show(notice.status)} ref=${show(notice.branch)}`
  const metadata: JsonObject = {
    provider: notice.provider,
    pr_number: notice.prNumber,
    conclusion: notice.conclusion,
    status: notice.status,
    action: notice.action,
    check_name: notice.checkName,
    branch: notice.branch,
    sha: notice.sha,
    protocol_run_id: run.id,
    step_run_id: step?.id ?? null,
  }
  return { type: notice.event, message, metadata }
}
