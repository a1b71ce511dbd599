import { AppError } from './app-error.js'
import type { JsonObject, JsonValue } from './json.js'

/**
 * Model names go to agent CLIs as the argument after `--model`. A value starting with `-` would be
 * read as another option by some CLIs, and whitespace or control characters have no place in a
 * model id (`provider/model-name:tag` is the widest shape we know), so both are refused.
 */
const MAX_MODEL_NAME_CHARS = 200
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u

/** Why `name` cannot be a model name, or undefined when it can. */
export const modelNameProblem = (name: string): string | undefined => {
  const quoted = JSON.stringify(name.slice(0, MAX_MODEL_NAME_CHARS))
  if (name === '') return 'Model name must not be empty'
  if (name.length > MAX_MODEL_NAME_CHARS)
    return `Model name ${quoted}… is longer than ${MAX_MODEL_NAME_CHARS} characters`
  if (name.startsWith('-')) return `Model name ${quoted} must not start with "-"`
  if (WHITESPACE_OR_CONTROL.test(name))
    return `Model name ${quoted} must not contain whitespace or control characters`
  return undefined
}

export interface ModelNameIssue {
  /** Where the value was found, as a dotted path (`default_models.exec`). */
  readonly field: string
  readonly problem: string
}

/** The first refused name among a project's `default_models` values (all of them reach `--model`). */
export const defaultModelsIssue = (models: JsonObject | null | undefined): ModelNameIssue | undefined =>
  firstIssue(Object.entries(models ?? {}).map(([key, value]) => [`default_models.${key}`, value]))

/**
 * The first refused model name in `template_config.protocol_spec`: the protocol's `model` and
 * `models`, and each step's `model` and `qa.model`. Malformed specs are left to spec validation.
 */
export const templateModelsIssue = (
  templateConfig: JsonObject | null | undefined,
): ModelNameIssue | undefined => {
  const spec = asObject(templateConfig?.protocol_spec)
  if (!spec) return undefined
  const base = 'template_config.protocol_spec'
  const found: [string, JsonValue | undefined][] = [[`${base}.model`, spec.model]]
  for (const [phase, value] of Object.entries(asObject(spec.models) ?? {}))
    found.push([`${base}.models.${phase}`, value])
  const steps = Array.isArray(spec.steps) ? spec.steps : []
  steps.forEach((step, index) => {
    const object = asObject(step)
    found.push([`${base}.steps.${index}.model`, object?.model])
    found.push([`${base}.steps.${index}.qa.model`, asObject(object?.qa)?.model])
  })
  return firstIssue(found)
}

const firstIssue = (
  entries: readonly (readonly [string, JsonValue | undefined])[],
): ModelNameIssue | undefined => {
  for (const [field, value] of entries) {
    const problem = typeof value === 'string' ? modelNameProblem(value) : undefined
    if (problem) return { field, problem }
  }
  return undefined
}

const asObject = (value: JsonValue | undefined): JsonObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined

/** Throws ORC_VALIDATION_FAILED (422 at the API) naming the field, when there is an issue. */
export const refuseModelIssue = (issue: ModelNameIssue | undefined): void => {
  if (issue) throw new AppError('ORC_VALIDATION_FAILED', issue.problem, { field: issue.field })
}
