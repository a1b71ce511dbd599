import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { stepFileNameProblem } from '../domain/git-refs.js'
import type { PathProbe, SpecRoots } from '../domain/spec-paths.js'
import { resolveStepPaths } from '../domain/spec-paths.js'
import type { ProtocolSpec } from '../domain/spec.js'
import { hasSpec, stepNameOf } from '../domain/spec.js'

/** Absolute paths of our JSON Schemas (the planning one is handed to engines as output schema). */
export const SCHEMA_PATHS = {
  protocolSpec: join(findSchemasDir(), 'protocol-spec.schema.json'),
  protocolPlanning: join(findSchemasDir(), 'protocol-planning.schema.json'),
} as const

const ajv = new Ajv({ allErrors: true, strict: false })
const validateSpecSchema = compile(SCHEMA_PATHS.protocolSpec)
const validatePlanningSchema = compile(SCHEMA_PATHS.protocolPlanning)

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
export const validateProtocolSpec = (spec: unknown, options: SpecCheckOptions = {}): string[] => {
  if (!hasSpec(spec)) return ['protocol spec missing or malformed']
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
export const parsePlanningOutput = (text: string): PlanningParse => {
  let value: unknown
  try {
    value = JSON.parse(stripFence(text))
  } catch (error) {
    return { errors: [`the answer is not JSON: ${(error as Error).message}`] }
  }
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

function compile(path: string): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(path, 'utf8')) as object)
}

/** `schemas/` at the project root, found from this module both in `src/` and in `dist/`. */
function findSchemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'schemas')
    if (existsSync(join(candidate, 'protocol-spec.schema.json'))) return candidate
    dir = dirname(dir)
  }
  throw new Error('schemas/protocol-spec.schema.json was not found above src/app')
}
