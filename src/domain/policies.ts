import type { JsonObject, JsonValue } from './json.js'
import type { StepStatus } from './statuses.js'
import { canStep } from './transitions.js'

/**
 * Loop and trigger policies (CodeMachine modules) as pure decisions: which events to record and
 * which steps to reset or dispatch. The app layer applies a decision through the transition table
 * and the outbox (src/app/policies.ts). Shape on the wire: `{module_id, behavior, action,
 * max_iterations, step_back, skip_steps, trigger_agent_id, target_agent_id, condition, conditions}`.
 */

/** Why policies are consulted. `ci_*` are ours (CI webhooks); the rest are the original's. */
export const FAILURE_REASONS = ['qa_failed', 'exec_failed', 'ci_failed'] as const
export const SUCCESS_REASONS = ['qa_passed', 'qa_skipped_policy', 'exec_completed', 'ci_passed'] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]
export type SuccessReason = (typeof SUCCESS_REASONS)[number]
export type PolicyReason = FailureReason | SuccessReason

/** A loop without `max_iterations` is still bounded (the original looped forever). */
export const DEFAULT_LOOP_MAX_ITERATIONS = 3
/** A loop without `step_back` goes back one step; 0 retries the failing step itself. */
export const DEFAULT_STEP_BACK = 1
/**
 * A trigger without conditions fires once per completion of its source, on these reasons only;
 * the original also fired on `exec_completed`, so the target ran twice.
 */
export const DEFAULT_TRIGGER_CONDITIONS: readonly PolicyReason[] = [
  'qa_passed',
  'qa_skipped_policy',
  'ci_passed',
]

export interface StepPolicy {
  /** The policy object as stored; echoed in event metadata. */
  readonly raw: JsonObject
  readonly moduleId: string
  readonly behavior: string
  readonly maxIterations: number
  readonly stepBack: number
  readonly skipSteps: readonly number[]
  /** `trigger_agent_id`, else `target_agent_id`. */
  readonly targetAgentId: string | null
  /** PO-1 tokens, trimmed and lowercased; empty means "always" (loops) or the default (triggers). */
  readonly conditions: readonly string[]
}

/** The step fields a decision reads. */
export interface PolicyStep {
  readonly id: number
  readonly stepIndex: number
  readonly stepName: string
  readonly status: StepStatus
  readonly runtimeState: JsonObject | null
}

/** An event a decision asks for, on the source step unless `stepId` says otherwise. */
export interface PolicyNote {
  readonly type: string
  readonly message: string
  readonly metadata: JsonObject
  readonly stepId: number
}

/** The policies of a step: its own `policy` (an object or a list) or else its spec's. */
export const policiesOf = (
  stepPolicy: JsonValue | null,
  specPolicies?: readonly JsonValue[],
): StepPolicy[] => {
  const own = Array.isArray(stepPolicy) ? stepPolicy : stepPolicy === null ? [] : [stepPolicy]
  const chosen = own.length > 0 ? own : (specPolicies ?? [])
  return chosen.filter(isObject).map(toPolicy)
}

/** CM-7: the agent id of a step name (shared with the CodeMachine importer). */
export { agentIdOfStep } from './codemachine/import-spec.js'

/** PO-1: no tokens allows any reason; otherwise the reason must equal one of them. */
export const conditionAllows = (conditions: readonly string[], reason: PolicyReason): boolean =>
  conditions.length === 0 || conditions.includes(reason)

const toPolicy = (raw: JsonObject): StepPolicy => {
  const behaviorValue = isObject(raw.behavior) ? raw.behavior.type : raw.behavior
  const behavior = typeof behaviorValue === 'string' ? behaviorValue.trim().toLowerCase() : 'unknown'
  const maxIterations = wholeNumber(pick(raw, 'max_iterations', 'maxIterations'))
  const stepBack = wholeNumber(pick(raw, 'step_back', 'stepBack'))
  const skip = pick(raw, 'skip_steps', 'skipSteps', 'skip')
  return {
    raw,
    moduleId: text(pick(raw, 'module_id', 'moduleId', 'id')) ?? behavior,
    behavior,
    maxIterations: maxIterations ?? DEFAULT_LOOP_MAX_ITERATIONS,
    stepBack: stepBack ?? DEFAULT_STEP_BACK,
    skipSteps: Array.isArray(skip) ? skip.filter((n): n is number => Number.isInteger(n)) : [],
    targetAgentId: text(pick(raw, 'trigger_agent_id', 'triggerAgentId', 'target_agent_id', 'targetAgentId')),
    conditions: [...tokens(raw.condition), ...tokens(raw.conditions)],
  }
}

const CONDITION_KEYS = ['on', 'reason', 'event', 'when', 'name'] as const

/** PO-1 tokens: strings trimmed and lowercased, lists flattened, objects read at on/reason/event/when/name. */
const tokens = (value: JsonValue | undefined): string[] => {
  if (typeof value === 'string') return value.trim() ? [value.trim().toLowerCase()] : []
  if (Array.isArray(value)) return value.flatMap(tokens)
  if (isObject(value)) return CONDITION_KEYS.flatMap((key) => tokens(value[key]))
  return []
}

const pick = (raw: JsonObject, ...keys: string[]): JsonValue | undefined => {
  const nested = isObject(raw.behavior) ? raw.behavior : {}
  for (const source of [raw, nested])
    for (const key of keys) if (source[key] !== undefined && source[key] !== null) return source[key]
  return undefined
}

const wholeNumber = (value: JsonValue | undefined): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined

const text = (value: JsonValue | undefined): string | null =>
  typeof value === 'string' && value.trim() ? value.trim() : null

export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A step a policy may send back to `pending` (the table's `reset`: never running or cancelled ones). */
export const canReset = (step: PolicyStep): boolean => canStep(step.status, 'reset')
