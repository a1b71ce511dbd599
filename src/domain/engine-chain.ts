import type { JsonObject, JsonValue } from './json.js'
import { modelNameProblem, type ModelNameIssue } from './model-name.js'

/** One link of a fallback chain: an engine id and the model to ask it for (null: its own default). */
export interface EngineChainEntry {
  readonly engine: string
  readonly model: string | null
}

export type EngineChain = readonly EngineChainEntry[]

/** More entries than this would only multiply the time a limited step spends before it parks. */
export const MAX_ENGINE_CHAIN_ENTRIES = 5

/**
 * Why `value` (found at `field`, e.g. `engines` or `template_config.protocol_spec.steps.0.engines`)
 * is not a chain of 1–5 `{engine, model}` entries naming registered engines and valid model names,
 * or undefined. `null` and absent are fine: nothing is chosen at that level.
 */
export const engineChainIssue = (
  value: JsonValue | undefined,
  field: string,
  registered: readonly string[],
): ModelNameIssue | undefined => {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ENGINE_CHAIN_ENTRIES)
    return {
      field,
      problem: `${field} must be a list of 1 to ${MAX_ENGINE_CHAIN_ENTRIES} {engine, model} entries`,
    }
  for (const [index, entry] of value.entries()) {
    const problem = entryProblem(entry, registered)
    if (problem) return { field: `${field}.${index}`, problem: `${field}[${index}]: ${problem}` }
  }
  return undefined
}

const entryProblem = (entry: JsonValue, registered: readonly string[]): string | undefined => {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return 'each entry must be an object {engine, model}'
  const unknownKey = Object.keys(entry).find((key) => key !== 'engine' && key !== 'model')
  if (unknownKey !== undefined) return `unknown key ${JSON.stringify(unknownKey.slice(0, 50))}`
  const { engine, model } = entry
  if (typeof engine !== 'string' || !registered.includes(engine))
    return `engine ${JSON.stringify(typeof engine === 'string' ? engine.slice(0, 100) : (engine ?? null))} is not a registered engine (${registered.join(', ')})`
  if (model === undefined || model === null) return undefined
  if (typeof model !== 'string') return 'model must be a string or null'
  return modelNameProblem(model)
}

/**
 * The first refused chain in `template_config.protocol_spec`: the protocol's `engines` and each
 * step's `engines`. Malformed specs otherwise are left to spec validation.
 */
export const templateEnginesIssue = (
  templateConfig: JsonObject | null | undefined,
  registered: readonly string[],
): ModelNameIssue | undefined => {
  const spec = asObject(templateConfig?.protocol_spec)
  if (!spec) return undefined
  const base = 'template_config.protocol_spec'
  const issue = engineChainIssue(spec.engines, `${base}.engines`, registered)
  if (issue) return issue
  const steps = Array.isArray(spec.steps) ? spec.steps : []
  for (const [index, step] of steps.entries()) {
    const found = engineChainIssue(asObject(step)?.engines, `${base}.steps.${index}.engines`, registered)
    if (found) return found
  }
  return undefined
}

/** A stored chain read back (validated when written); anything unreadable counts as none. */
export const toEngineChain = (value: unknown): EngineChain | undefined => {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const chain: EngineChainEntry[] = []
  for (const entry of value as JsonValue[]) {
    const object = asObject(entry)
    if (typeof object?.engine !== 'string') return undefined
    chain.push({ engine: object.engine, model: typeof object.model === 'string' ? object.model : null })
  }
  return chain.slice(0, MAX_ENGINE_CHAIN_ENTRIES)
}

/** The JSON form stored and returned by the API. */
export const engineChainJson = (chain: EngineChain): JsonValue =>
  chain.map(({ engine, model }) => ({ engine, model }))

/**
 * Where a chain may be named, highest precedence first: the step's spec, the step run (API-created
 * steps), the protocol spec, the project. Undefined: the single engine/model resolution applies.
 */
export const selectEngineChain = (levels: {
  readonly stepSpec?: unknown
  readonly stepRun?: EngineChain | null | undefined
  readonly protocolSpec?: unknown
  readonly project?: EngineChain | null | undefined
}): EngineChain | undefined =>
  toEngineChain(levels.stepSpec) ??
  levels.stepRun ??
  toEngineChain(levels.protocolSpec) ??
  levels.project ??
  undefined

const asObject = (value: JsonValue | undefined): JsonObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined
