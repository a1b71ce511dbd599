import type { JsonObject } from './json.js'
import {
  agentIdOfStep,
  canReset,
  conditionAllows,
  DEFAULT_TRIGGER_CONDITIONS,
  isObject,
  type PolicyNote,
  type PolicyReason,
  type PolicyStep,
  type StepPolicy,
} from './policies.js'

export interface LoopPlan {
  readonly policy: StepPolicy
  readonly targetIndex: number
  /** Steps to send back to `pending`, in execution order; the first one is executed next. */
  readonly reset: readonly PolicyStep[]
  /** This loop's count after it applies (1 the first time). */
  readonly iterations: number
}

export interface TriggerPlan {
  readonly policy: StepPolicy
  readonly target: PolicyStep
  /** The target's trigger depth: the source's plus one. */
  readonly depth: number
  /** The source execution this firing belongs to (the dedupe key: one firing per source execution, where the original fired on both
   * execution and QA and ran the target twice). */
  readonly attempt: string
}

export interface Decision<P> {
  readonly notes: readonly PolicyNote[]
  readonly plan?: P
}

/**
 * PO-2 with the fixes: the first loop policy whose condition holds and whose limit is not reached
 * steps back `stepBack` steps (0 = this step), further back over `skipSteps`, and resets every
 * resettable step from there on that is not skipped. Counts live in the source's
 * `runtime_state.loop_counts`.
 */
export const decideLoop = (
  policies: readonly StepPolicy[],
  reason: PolicyReason,
  source: PolicyStep,
  steps: readonly PolicyStep[],
): Decision<LoopPlan> => {
  const notes: PolicyNote[] = []
  for (const policy of policies.filter((p) => p.behavior === 'loop')) {
    const base = { policy: policy.raw, module_id: policy.moduleId, reason }
    if (!conditionAllows(policy.conditions, reason)) {
      notes.push(
        note(source, 'loop_condition_skipped', `Loop ${policy.moduleId} does not apply to ${reason}.`, {
          ...base,
          conditions: [...policy.conditions],
        }),
      )
      continue
    }
    const current = loopCount(source, policy.moduleId)
    if (current >= policy.maxIterations) {
      const message = `Loop ${policy.moduleId} reached its limit (${current}/${policy.maxIterations}).`
      notes.push(
        note(source, 'loop_limit_reached', message, {
          ...base,
          iterations: current,
          max_iterations: policy.maxIterations,
        }),
      )
      continue
    }
    const targetIndex = stepBackTarget(source.stepIndex, policy)
    const reset = steps.filter(
      (s) => s.stepIndex >= targetIndex && !policy.skipSteps.includes(s.stepIndex) && canReset(s),
    )
    if (reset.length === 0) continue
    return { notes, plan: { policy, targetIndex, reset, iterations: current + 1 } }
  }
  return { notes }
}

/**
 * PO-3 with the fixes: the first trigger policy whose condition holds (no condition: a completion
 * of the source, never its execution too, which ran the target twice in the original) and that has not fired for this source execution yet, whose target agent's
 * step exists, is neither completed, cancelled nor running, and stays under the depth limit — all
 * checked before anything is changed (the original reset the target first and left it pending
 * when the depth limit then refused).
 */
export const decideTrigger = (
  policies: readonly StepPolicy[],
  reason: PolicyReason,
  source: PolicyStep,
  steps: readonly PolicyStep[],
  maxDepth: number,
): Decision<TriggerPlan> => {
  const notes: PolicyNote[] = []
  const byAgent = new Map(steps.map((s) => [agentIdOfStep(s.stepName), s]))
  const attempt = attemptOf(source)
  for (const policy of policies.filter((p) => p.behavior === 'trigger')) {
    const base = { policy: policy.raw, module_id: policy.moduleId, reason }
    const conditions = policy.conditions.length > 0 ? policy.conditions : DEFAULT_TRIGGER_CONDITIONS
    if (!conditionAllows(conditions, reason)) {
      notes.push(
        note(source, 'trigger_condition_skipped', `Trigger ${policy.moduleId} does not apply to ${reason}.`, {
          ...base,
          conditions: [...conditions],
        }),
      )
      continue
    }
    if (policy.targetAgentId === null) continue
    const target = byAgent.get(policy.targetAgentId)
    if (!target) {
      const message = `Trigger ${policy.moduleId}: no step runs agent ${policy.targetAgentId}.`
      notes.push(
        note(source, 'trigger_missing_target', message, { ...base, target_agent_id: policy.targetAgentId }),
      )
      continue
    }
    const meta = { ...base, target_step_id: target.id, target_step_index: target.stepIndex }
    if (firedFor(source, policy.moduleId) === attempt) {
      const message = `Trigger ${policy.moduleId} already fired for this execution of ${source.stepName}.`
      notes.push(note(source, 'trigger_skipped', message, { ...meta, skip_reason: 'already_fired', attempt }))
      continue
    }
    if (target.status === 'completed' || !canReset(target)) {
      const message = `Trigger ${policy.moduleId}: ${target.stepName} is ${target.status}; not triggered.`
      notes.push(note(source, 'trigger_skipped', message, { ...meta, target_status: target.status }))
      continue
    }
    const depth = triggerDepth(source) + 1
    if (depth >= maxDepth) {
      const message = `Inline trigger depth exceeded (${depth}/${maxDepth}).`
      const metadata = { ...meta, source: source.stepName, inline_depth: depth, max_depth: maxDepth }
      return { notes: [...notes, note(target, 'trigger_inline_depth_exceeded', message, metadata)] }
    }
    return { notes, plan: { policy, target, depth, attempt } }
  }
  return { notes }
}

/** `max(0, index − stepBack)`, moved further back while it names a skipped step (never below 0). */
const stepBackTarget = (index: number, policy: StepPolicy): number => {
  let target = Math.max(0, index - policy.stepBack)
  while (target > 0 && policy.skipSteps.includes(target)) target -= 1
  return target
}

export const loopCount = (step: PolicyStep, moduleId: string): number => {
  const counts = step.runtimeState?.loop_counts
  const value = isObject(counts) ? counts[moduleId] : undefined
  return typeof value === 'number' ? value : 0
}

export const triggerDepth = (step: PolicyStep): number => {
  const value = step.runtimeState?.inline_trigger_depth
  return typeof value === 'number' && value > 0 ? value : 0
}

/** The execution a source's completion belongs to: the execute job that claimed it, if any. */
const attemptOf = (step: PolicyStep): string => {
  const jobId = step.runtimeState?.job_id
  return typeof jobId === 'string' ? jobId : 'none'
}

const firedFor = (step: PolicyStep, moduleId: string): string | undefined => {
  const fired = step.runtimeState?.triggers_fired
  const value = isObject(fired) ? fired[moduleId] : undefined
  return typeof value === 'string' ? value : undefined
}

const note = (step: PolicyStep, type: string, message: string, metadata: JsonObject): PolicyNote => ({
  type,
  message,
  metadata,
  stepId: step.id,
})
