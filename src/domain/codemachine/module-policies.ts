import type { JsonObject, JsonValue } from '../json.js'
import { configError } from './config-error.js'
import { isObject, type ConfigSource, type LoadedAgent } from './workspace-config.js'

/**
 * A module of `modules.js` as a loop or trigger policy, stored on `step_runs.policy` and in
 * `StepSpec.policies` (the reference's shape; the policy runtime reads it).
 */
export interface CodeMachinePolicy {
  readonly module_id: string
  /** `loop`, `trigger` or whatever else the author wrote, lowercased (`unknown` when absent). */
  readonly behavior: string
  readonly action: string | null
  readonly max_iterations: number | null
  /** 0 means "retry this step" (the original turned 0 into 1). */
  readonly step_back: number | null
  readonly skip_steps: readonly number[]
  readonly trigger_agent_id: string | null
  readonly target_agent_id: string | null
  readonly condition: JsonValue
  readonly conditions: readonly JsonValue[]
}

/** What a loop gets when the module sets no `maxIterations`: loops are always bounded. */
export const DEFAULT_LOOP_MAX_ITERATIONS = 3

/** Reads `modules.js`: a list of module objects, each mapped to one policy. */
export const readModules = (source: ConfigSource): CodeMachinePolicy[] => {
  if (source.value === undefined) return []
  if (!Array.isArray(source.value)) throw configError(source.file, undefined, 'modules config must be a list')
  return source.value.map((entry) => {
    const at = typeof entry === 'object' && entry !== null ? source.locate(entry) : undefined
    if (!isObject(entry)) throw configError(source.file, at, 'module entry must be an object')
    return toPolicy(entry, (problem) => configError(source.file, at, problem))
  })
}

/**
 * The policies of one main agent, in module order: modules the agent names, and loop modules
 * whose `target_agent_id` is the agent. A trigger is attached only to the agent that names it
 * (its source), never to the agent it triggers, which made the original trigger itself.
 */
export const policiesFor = (agent: LoadedAgent, modules: readonly CodeMachinePolicy[]): CodeMachinePolicy[] =>
  modules.filter(
    (module) =>
      agent.moduleIds.includes(module.module_id) ||
      (module.behavior !== 'trigger' && module.target_agent_id === agent.agent.id),
  )

const toPolicy = (entry: JsonObject, fail: (problem: string) => Error): CodeMachinePolicy => {
  const rawBehavior = entry.behavior
  const nested: JsonObject = isObject(rawBehavior) ? rawBehavior : {}
  const pick = (...keys: string[]): JsonValue | undefined => firstPresent(nested, entry, keys)
  const behaviorName = typeof rawBehavior === 'string' ? rawBehavior : firstPresent(nested, {}, ['type'])
  const behavior =
    typeof behaviorName === 'string' && behaviorName.trim() ? behaviorName.trim().toLowerCase() : 'unknown'
  const maxIterations = integer(pick('maxIterations', 'max_iterations'), 'maxIterations', fail)
  return {
    module_id: moduleId(entry),
    behavior,
    action: optionalText(pick('action'), 'action', fail),
    max_iterations: maxIterations ?? (behavior === 'loop' ? DEFAULT_LOOP_MAX_ITERATIONS : null),
    step_back: integer(pick('stepBack', 'step_back'), 'stepBack', fail),
    skip_steps: skipSteps(pick('skip', 'skipSteps', 'skip_steps'), fail),
    trigger_agent_id: optionalText(pick('triggerAgentId', 'trigger_agent_id'), 'triggerAgentId', fail),
    target_agent_id: optionalText(pick('targetAgentId', 'target_agent_id'), 'targetAgentId', fail),
    condition: pick('condition') ?? null,
    conditions: asList(pick('conditions')),
  }
}

/** The first key present (not undefined, not null) in `behavior`, then in the module itself. */
const firstPresent = (
  nested: JsonObject,
  entry: JsonObject,
  keys: readonly string[],
): JsonValue | undefined => {
  for (const source of [nested, entry])
    for (const key of keys) {
      const value = source[key]
      if (value !== undefined && value !== null) return value
    }
  return undefined
}

const moduleId = (entry: JsonObject): string => {
  for (const key of ['id', 'module_id', 'moduleId', 'name']) {
    const value = entry[key]
    if (typeof value === 'string' && value.trim()) return value.trim()
  }
  return '(unknown)'
}

const integer = (
  value: JsonValue | undefined,
  key: string,
  fail: (problem: string) => Error,
): number | null => {
  if (value === undefined) return null
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw fail(`${key} must be a whole number of at least 0`)
  return value
}

const optionalText = (
  value: JsonValue | undefined,
  key: string,
  fail: (problem: string) => Error,
): string | null => {
  if (value === undefined) return null
  if (typeof value !== 'string') throw fail(`${key} must be a string`)
  return value
}

const skipSteps = (value: JsonValue | undefined, fail: (problem: string) => Error): number[] => {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw fail('skip must be a list of step indexes')
  return value.filter((item): item is number => typeof item === 'number' && Number.isInteger(item))
}

const asList = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : [])
