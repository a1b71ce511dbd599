import type { JsonObject } from '../domain/json.js'
import {
  FAILURE_REASONS,
  policiesOf,
  type FailureReason,
  type PolicyNote,
  type SuccessReason,
} from '../domain/policies.js'
import { decideLoop, decideTrigger, type LoopPlan, type TriggerPlan } from '../domain/policy-decisions.js'
import type { ProtocolRun } from '../domain/protocol-run.js'
import { findStepSpec } from '../domain/spec.js'
import type { StepRun } from '../domain/step-run.js'
import { canProtocol } from '../domain/transitions.js'
import { withTrace, type ChangeOrigin } from './context.js'
import type { JobPolicy } from './queue-runtime/enqueue.js'
import { specOfRun } from './protocol/execution/step-context.js'
import { dispatchStep, keepRunGoing, resetStep } from './policy-dispatch.js'
import type { Repositories } from './ports.js'

/** What applying policies needs beyond the transaction. */
export interface PolicyDeps {
  readonly jobPolicy: JobPolicy
  /** `TASKSGODZILLA_MAX_INLINE_TRIGGER_DEPTH`: a trigger chain stops at this depth. */
  readonly maxTriggerDepth: number
}

/** The policy settings of a job handler's deps. */
export const policyDepsOf = (deps: {
  readonly config: { readonly jobs: JobPolicy; readonly maxInlineTriggerDepth: number }
}): PolicyDeps => ({
  jobPolicy: { maxAttempts: deps.config.jobs.maxAttempts },
  maxTriggerDepth: deps.config.maxInlineTriggerDepth,
})

/**
 * After a step failed (QA FAIL, engine failure, CI failure): its loop policies, then triggers
 * conditioned on the failure, inside the caller's transaction. True when one applied — the run is
 * then `running` and the step to execute next is enqueued; false leaves blocking to the caller.
 */
export const applyFailurePolicies = async (
  tx: Repositories,
  deps: PolicyDeps,
  stepId: number,
  reason: FailureReason,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  const step = await tx.steps.findById(stepId)
  const run = step && (await tx.runs.findById(step.protocolRunId))
  return step && run ? applyPolicies(tx, deps, { step, run }, reason, ctx) : false
}

/**
 * After a step succeeded (executed, QA passed or skipped, CI passed): its trigger policies.
 * `moved` is the step and its run as this transaction left them (what the step's move returned):
 * neither is read again.
 */
export const applySuccessPolicies = (
  tx: Repositories,
  deps: PolicyDeps,
  moved: { readonly step: StepRun; readonly run: ProtocolRun } | undefined,
  reason: SuccessReason,
  ctx: ChangeOrigin,
): Promise<boolean> => (moved ? applyPolicies(tx, deps, moved, reason, ctx) : Promise.resolve(false))

const applyPolicies = async (
  tx: Repositories,
  deps: PolicyDeps,
  { step: source, run }: { readonly step: StepRun; readonly run: ProtocolRun },
  reason: FailureReason | SuccessReason,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  const stepId = source.id
  const specPolicies = findStepSpec(specOfRun(run), source.stepName)?.policies
  const policies = policiesOf(source.policy, specPolicies)
  if (policies.length === 0) return false
  if (!canProtocol(run.status, 'run')) {
    const message = `Protocol is ${run.status}; loop and trigger policies not applied.`
    await record(tx, run, [{ type: 'policies_skipped', message, metadata: { reason }, stepId }], ctx)
    return false
  }
  const steps = await tx.steps.listByRun(run.id)
  // All steps of a run share one worktree: a policy never sends a second agent into it. A late
  // CI result for an earlier step, while a later one executes, is reported, not acted on.
  const busy = steps.find((step) => step.id !== source.id && step.status === 'running')
  if (busy) {
    const message = `Step ${busy.stepName} is running; loop and trigger policies not applied.`
    const metadata = { reason, running_step_id: busy.id }
    await record(tx, run, [{ type: 'policies_skipped', message, metadata, stepId }], ctx)
    return false
  }
  if (isFailure(reason)) {
    const loop = decideLoop(policies, reason, source, steps)
    await record(tx, run, loop.notes, ctx)
    if (loop.plan) return applyLoop(tx, deps, run, { source, steps, plan: loop.plan, reason, origin: ctx })
  }
  const trigger = decideTrigger(policies, reason, source, steps, deps.maxTriggerDepth)
  await record(tx, run, trigger.notes, ctx)
  return trigger.plan
    ? applyTrigger(tx, deps, run, { source, plan: trigger.plan, reason, origin: ctx })
    : false
}

const applyLoop = async (
  tx: Repositories,
  deps: PolicyDeps,
  run: ProtocolRun,
  {
    source,
    steps,
    plan,
    reason,
    origin: ctx,
  }: {
    readonly source: StepRun
    readonly steps: readonly StepRun[]
    readonly plan: LoopPlan
    readonly reason: FailureReason
    readonly origin: ChangeOrigin
  },
): Promise<true> => {
  const { policy, iterations, targetIndex } = plan
  const label = `Looped via ${policy.moduleId} (${iterations}/${policy.maxIterations})`
  await keepRunGoing(tx, run, `${label}: protocol running again.`, ctx)
  const reset: StepRun[] = []
  for (const planned of plan.reset) {
    const step = steps.find((s) => s.id === planned.id)!
    reset.push(await resetStep(tx, run, step, { type: 'step_reset', message: label }, ctx))
  }
  const next = reset[0]!
  const enqueued = {
    type: 'step_enqueued',
    message: `Step ${next.stepName} enqueued by loop ${policy.moduleId}.`,
    metadata: { source: 'loop', module_id: policy.moduleId, source_step_id: source.id },
  }
  const job = await dispatchStep(tx, deps.jobPolicy, run, {
    step: next,
    event: enqueued,
    runtime: {},
    origin: ctx,
  })
  const updated = await tx.steps.mergeRuntimeState(
    source.id,
    {
      loop_counts: { [policy.moduleId]: iterations },
      last_action: 'loop_step_back',
      last_policy_module_id: policy.moduleId,
      last_target_step_index: targetIndex,
    },
    ['loop_counts'],
  )
  const metadata = loopMetadata(plan, reason, next, job.id, updated?.runtimeState ?? null)
  const message = `${label}: back to step ${next.stepName}.`
  // `loop_applied` is ours; `loop_decision` keeps the original's event for existing readers.
  const notes = ['loop_applied', 'loop_decision'].map((type) => ({
    type,
    message,
    metadata,
    stepId: source.id,
  }))
  await record(tx, run, notes, ctx)
  return true
}

const loopMetadata = (
  { policy, targetIndex, reset, iterations }: LoopPlan,
  reason: FailureReason,
  next: StepRun,
  jobId: string,
  runtimeState: JsonObject | null,
): JsonObject => ({
  policy: policy.raw,
  module_id: policy.moduleId,
  reason,
  target_step_index: targetIndex,
  target_step_id: next.id,
  steps_reset: reset.map((s) => s.stepIndex),
  iterations,
  max_iterations: policy.maxIterations,
  runtime_state: runtimeState,
  enqueued_job_id: jobId,
})

const applyTrigger = async (
  tx: Repositories,
  deps: PolicyDeps,
  run: ProtocolRun,
  {
    source,
    plan,
    reason,
    origin: ctx,
  }: {
    readonly source: StepRun
    readonly plan: TriggerPlan
    readonly reason: FailureReason | SuccessReason
    readonly origin: ChangeOrigin
  },
): Promise<true> => {
  const { policy, depth } = plan
  const by = `Triggered by ${source.stepName}`
  await keepRunGoing(tx, run, `${by}: protocol running.`, ctx)
  const target = await resetStep(
    tx,
    run,
    (await tx.steps.findById(plan.target.id))!,
    { type: 'step_reset', message: by },
    ctx,
  )
  const dispatchMeta: JsonObject = {
    target_step_id: target.id,
    source: source.stepName,
    inline_depth: depth,
    module_id: policy.moduleId,
  }
  const job = await dispatchStep(tx, deps.jobPolicy, run, {
    step: target,
    event: { type: 'trigger_enqueued', message: `${by}; execution enqueued.`, metadata: dispatchMeta },
    runtime: { inline_trigger_depth: depth, last_triggered_by: source.stepName },
    origin: ctx,
  })
  const fired = { triggers_fired: { [policy.moduleId]: plan.attempt } }
  await tx.steps.mergeRuntimeState(source.id, fired, ['triggers_fired'])
  const metadata: JsonObject = {
    policy: policy.raw,
    module_id: policy.moduleId,
    reason,
    target_step_index: target.stepIndex,
    target_step_id: target.id,
    inline_depth: depth,
    enqueued_job_id: job.id,
  }
  const message = `Trigger ${policy.moduleId} fired: ${target.stepName} enqueued.`
  await record(tx, run, [{ type: 'trigger_decision', message, metadata, stepId: source.id }], ctx)
  return true
}

const isFailure = (reason: FailureReason | SuccessReason): reason is FailureReason =>
  (FAILURE_REASONS as readonly string[]).includes(reason)

const record = async (
  tx: Pick<Repositories, 'events'>,
  run: ProtocolRun,
  notes: readonly PolicyNote[],
  ctx: ChangeOrigin,
): Promise<void> => {
  for (const note of notes)
    await tx.events.append({
      projectId: run.projectId,
      protocolRunId: run.id,
      stepRunId: note.stepId,
      eventType: note.type,
      message: note.message,
      metadata: withTrace(note.metadata, ctx),
    })
}
