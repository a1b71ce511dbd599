import type { JsonObject, JsonValue } from '../json.js'
import { configError, type ValueLocator } from './config-error.js'

/**
 * The mapping from parsed CodeMachine config values (already plain data) to the persisted
 * shapes of the reference: agents, module policies, placeholders, template. camelCase and
 * snake_case keys are both accepted; a value of the wrong type is a ConfigError at its entry.
 */

/** One parsed config file: `value` is undefined when the file is absent (counts as empty). */
export interface ConfigSource {
  readonly file: string
  readonly value: JsonValue | undefined
  readonly locate: ValueLocator
}

/** An agent as persisted in `template_config.main_agents` / `sub_agents`. */
export interface CodeMachineAgent {
  readonly id: string
  readonly name: string | null
  readonly description: string | null
  readonly prompt_path: string
  readonly mirror_path: string | null
  readonly engine_id: string | null
  readonly model: string | null
}

/** A main agent with the module ids it names (`moduleId`, `module_id`, `module`, `modules`). */
export interface LoadedAgent {
  readonly agent: CodeMachineAgent
  readonly moduleIds: readonly string[]
  /** Where its entry starts, for later errors about it. */
  readonly at: ReturnType<ValueLocator>
}

/** Safe as a step-name suffix and an output file name. */
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** Reads `main.agents.js` or `sub.agents.js`: a list of agent objects with unique ids. */
export const readAgents = (source: ConfigSource, kind: 'main' | 'sub'): LoadedAgent[] => {
  if (source.value === undefined) return []
  if (!Array.isArray(source.value))
    throw configError(source.file, undefined, `${kind} agents config must be a list`)
  const seen = new Set<string>()
  return source.value.map((entry) => {
    const at = typeof entry === 'object' && entry !== null ? source.locate(entry) : undefined
    if (!isObject(entry)) throw configError(source.file, at, `${kind} agent entry must be an object`)
    const fail = (problem: string) => configError(source.file, at, problem)
    const id = text(entry, fail, 'id', 'agentId', 'agent_id')?.trim()
    if (!id) throw fail(`${kind} agent is missing an id`)
    if (!AGENT_ID.test(id) || id.includes('..'))
      throw fail(`${kind} agent id ${JSON.stringify(id)} must be letters, digits, '.', '_' or '-'`)
    if (seen.has(id)) throw fail(`${kind} agent id ${JSON.stringify(id)} appears twice`)
    seen.add(id)
    const promptPath = text(entry, fail, 'promptPath', 'prompt_path', 'prompt', 'path')
    if (!promptPath) throw fail(`${kind} agent ${id} is missing promptPath`)
    const agent: CodeMachineAgent = {
      id,
      name: text(entry, fail, 'name') ?? null,
      description: text(entry, fail, 'description') ?? null,
      prompt_path: promptPath,
      mirror_path: text(entry, fail, 'mirrorPath', 'mirror_path') ?? null,
      engine_id: text(entry, fail, 'engineId', 'engine_id', 'engine') ?? null,
      model: text(entry, fail, 'model') ?? null,
    }
    return { agent, moduleIds: moduleIdsOf(entry, fail), at }
  })
}

/** Reads `placeholders.js`: an object of string, number or boolean values. */
export const readPlaceholders = (source: ConfigSource): Record<string, string | number | boolean> => {
  if (source.value === undefined) return {}
  if (!isObject(source.value))
    throw configError(source.file, undefined, 'placeholders config must be an object')
  const out: Record<string, string | number | boolean> = {}
  for (const [key, value] of Object.entries(source.value)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw configError(
        source.file,
        source.locate(source.value),
        `placeholder ${key} must be a string, number or boolean`,
      )
    out[key] = value
  }
  return out
}

/** Reads `template.json`: an object (absent → `{}`). */
export const readTemplate = (source: ConfigSource): JsonObject => {
  if (source.value === undefined) return {}
  if (!isObject(source.value)) throw configError(source.file, undefined, 'template.json must hold an object')
  return source.value
}

export const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

type Fail = (problem: string) => Error

/** The first of `keys` that is present and not null; it must be a string. */
const text = (entry: JsonObject, fail: Fail, ...keys: string[]): string | undefined => {
  for (const key of keys) {
    const value = entry[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw fail(`${key} must be a string`)
    return value
  }
  return undefined
}

const moduleIdsOf = (entry: JsonObject, fail: Fail): string[] => {
  const ids: string[] = []
  for (const key of ['moduleId', 'module_id', 'module', 'modules', 'moduleIds', 'module_ids']) {
    const value = entry[key]
    if (value === undefined || value === null) continue
    for (const id of Array.isArray(value) ? value : [value]) {
      if (typeof id !== 'string') throw fail(`${key} must be a string or a list of strings`)
      ids.push(id.trim())
    }
  }
  return ids
}
