import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { stepFileNameProblem } from '../domain/git-refs.js'
import type { PathProbe, SpecRoots } from '../domain/spec-paths.js'
import { resolveStepPaths } from '../domain/spec-paths.js'
import type { ProtocolSpec } from '../domain/spec.js'
import { hasSpec, stepNameOf } from '../domain/spec.js'
import type { Assets } from './assets.port.js'

/** Our JSON Schemas, as packaged assets (the planning one is handed to engines as output schema). */
export const SCHEMA_FILES = {
  protocolSpec: 'schemas/protocol-spec.schema.json',
  protocolPlanning: 'schemas/protocol-planning.schema.json',
} as const

interface Validators {
  readonly spec: ValidateFunction
  readonly planning: ValidateFunction
}

/** Compiled once per assets root: the schemas are read and compiled on first use only. */
const compiled = new WeakMap<Assets, Validators>()

const validatorsOf = (assets: Assets): Validators => {
  let validators = compiled.get(assets)
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: false })
    const compile = (path: string): ValidateFunction =>
      ajv.compile(JSON.parse(assets.readText(path)) as object)
    validators = {
      spec: compile(SCHEMA_FILES.protocolSpec),
      planning: compile(SCHEMA_FILES.protocolPlanning),
    }
    compiled.set(assets, validators)
  }
  return validators
}

export interface SpecCheckOptions {
  /** When given, prompt and output paths are resolved and must stay inside these roots. */
  readonly roots?: SpecRoots
  readonly probe?: PathProbe
  /** When given, every named engine must be one of these. */
  readonly engineIds?: readonly string[]
}

/**
 * Validates a ProtocolSpec and returns readable errors (empty when valid): schema errors first,
 * as `schema:<path>: <message>`, then `<step name>: <problem>` for each step.
 */
export const validateProtocolSpec = (
  assets: Assets,
  spec: unknown,
  options: SpecCheckOptions = {},
): string[] => {
  if (!hasSpec(spec)) return ['protocol spec missing or malformed']
  const validateSpecSchema = validatorsOf(assets).spec
  if (!validateSpecSchema(spec)) return formatErrors(validateSpecSchema.errors)
  const valid = spec as ProtocolSpec
  const errors: string[] = []
  valid.steps.forEach((step, index) => {
    const name = stepNameOf(step, index)
    for (const engineId of [step.engine_id, step.qa.engine_id])
      if (engineId && options.engineIds && !options.engineIds.includes(engineId))
        errors.push(`${name}: engine ${JSON.stringify(engineId)} is not registered`)
    if (!options.roots || !options.probe) return
    const resolved = resolveStepPaths(step, valid, options.roots, options.probe)
    if ('errors' in resolved) errors.push(...resolved.errors.map((error) => `${name}: ${error}`))
  })
  return errors
}

/** What a planning agent must return. */
export interface PlanningOutput {
  readonly plan_md: string
  readonly context_md: string
  readonly log_md: string
  readonly step_files: ReadonlyArray<{ readonly filename: string; readonly content: string }>
}

export type PlanningParse = { readonly ok: PlanningOutput } | { readonly errors: readonly string[] }

/**
 * Parses a planning agent's answer (JSON, optionally inside a ```json fence) and checks it
 * against the planning schema and our file-name rules. Errors are readable enough to be fed back
 * to the agent for its one retry.
 */
export const parsePlanningOutput = (assets: Assets, text: string): PlanningParse => {
  let value: unknown
  try {
    value = JSON.parse(stripFence(text))
  } catch (error) {
    return { errors: [`the answer is not JSON: ${(error as Error).message}`] }
  }
  const validatePlanningSchema = validatorsOf(assets).planning
  if (!validatePlanningSchema(value)) return { errors: formatErrors(validatePlanningSchema.errors) }
  const output = value as PlanningOutput
  const errors: string[] = []
  const seen = new Set<string>()
  for (const { filename } of output.step_files) {
    const problem = stepFileNameProblem(filename)
    if (problem) errors.push(`step_files: ${JSON.stringify(filename)} is refused: ${problem}`)
    if (seen.has(filename)) errors.push(`step_files: ${JSON.stringify(filename)} appears twice`)
    seen.add(filename)
  }
  if (!output.step_files.some(({ filename }) => filename.startsWith('00-')))
    errors.push('step_files: a 00-setup.md step is required')
  return errors.length > 0 ? { errors } : { ok: output }
}

const stripFence = (text: string): string => {
  const trimmed = text.trim()
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n```$/.exec(trimmed)
  return fenced?.[1] ?? trimmed
}

const formatErrors = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((error) => {
    const path = error.instancePath.replace(/^\//, '') || '(root)'
    const extra =
      error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : ''
    return `schema:${path}: ${error.message ?? 'is invalid'}${extra}`
  })
