import type { ReviewMode } from './review-mode.js'
import type { JsonObject } from './json.js'
import type { ModelPhase } from './project.js'
import type { EngineChainEntry } from './engine-chain.js'

/**
 * ProtocolSpec / StepSpec: the steps of a run, stored in `template_config.protocol_spec` with the
 * original's snake_case keys (the wire format). Extra keys are allowed and kept. The JSON Schema
 * is `schemas/protocol-spec.schema.json`; these types describe a spec that passed it.
 */

export const QA_POLICIES = ['skip', 'light', 'full'] as const
export type QaPolicy = (typeof QA_POLICIES)[number]

export const STEP_TYPES = ['setup', 'work', 'qa'] as const
export type StepType = (typeof STEP_TYPES)[number]

export interface QaSpec {
  /** null or absent behaves as `full`. */
  readonly policy: QaPolicy | null
  /** QA prompt file, relative to the protocol root or the workspace. */
  readonly prompt?: string | null
  readonly model?: string | null
  readonly engine_id?: string | null
  readonly inputs?: JsonObject | null
}

export interface StepOutputs {
  /** The step's main artifact, relative to the protocol root (or the workspace). */
  readonly protocol?: string
  /** Named extra copies of the artifact. */
  readonly aux?: Readonly<Record<string, string>>
}

export interface StepSpec {
  readonly id: string
  /** The StepRun name; lookups match `name`, else `id`. */
  readonly name?: string
  readonly description?: string | null
  readonly engine_id: string | null
  readonly model?: string | null
  /** Fallback chain for execution, above every other level (engine-chain.ts). */
  readonly engines?: readonly EngineChainEntry[] | null
  /** The step's prompt file, relative to the protocol root or the workspace. */
  readonly prompt_ref: string
  readonly inputs?: JsonObject | null
  readonly outputs?: StepOutputs
  readonly step_type?: StepType
  /** Loop and trigger policy objects. */
  readonly policies?: readonly JsonObject[]
  readonly qa: QaSpec
  readonly order?: number
  readonly metadata?: JsonObject | null
}

export interface ProtocolSpec {
  readonly steps: readonly StepSpec[]
  readonly version?: string
  /** Values substituted for `{{KEY}}`, `${KEY}`, `$KEY` and `<KEY>` in prompt and output paths. */
  readonly placeholders?: Readonly<Record<string, string | number | boolean>>
  readonly template?: JsonObject | null
  readonly metadata?: JsonObject | null
  /** Protocol-wide engine, between the step's and the project's in precedence. */
  readonly engine_id?: string | null
  /** Protocol-wide model for every phase, or per phase in `models`. */
  readonly model?: string | null
  readonly models?: Readonly<Partial<Record<ModelPhase, string>>>
  /** What review comments do to the run; wins over the project's and the server's. */
  readonly review_mode?: ReviewMode
  /** Protocol-wide fallback chain for execution, between the steps' and the project's. */
  readonly engines?: readonly EngineChainEntry[] | null
}

export const isQaPolicy = (value: unknown): value is QaPolicy =>
  typeof value === 'string' && (QA_POLICIES as readonly string[]).includes(value)

/** The policy a step runs under: its own when valid, else `full` (the original's fallback). */
export const qaPolicyOf = (step: StepSpec | undefined): QaPolicy =>
  isQaPolicy(step?.qa.policy) ? step.qa.policy : 'full'

/** The StepRun name a spec step materialises as (`name`, else `id`, else `NN-step`). */
export const stepNameOf = (step: Partial<StepSpec>, index: number): string =>
  step.name || step.id || `${String(index).padStart(2, '0')}-step`

/** The spec step for a StepRun: the one whose `name` matches, else the one whose `id` does. */
export const findStepSpec = (spec: ProtocolSpec | undefined, stepName: string): StepSpec | undefined =>
  spec?.steps.find((step) => step.name === stepName) ?? spec?.steps.find((step) => step.id === stepName)

/** `00-…` or containing `setup` → setup; containing `qa` → qa; else work (the original's rule). */
export const inferStepType = (name: string): StepType => {
  const lower = name.toLowerCase()
  if (lower.startsWith('00-') || lower.includes('setup')) return 'setup'
  if (lower.includes('qa')) return 'qa'
  return 'work'
}

/** Step files of a protocol folder: `NN…md` names, sorted. */
export const selectStepFiles = (fileNames: readonly string[]): string[] =>
  fileNames.filter((name) => /^\d{2}/.test(name) && name.endsWith('.md')).sort()

export interface BuildSpecOptions {
  readonly qaPolicy: QaPolicy
  readonly engineId: string | null
}

/**
 * Builds a spec from planning's step files, one StepSpec per file in name order. Paths are
 * relative to the protocol root (any worker's checkout resolves them), and the main output is
 * `outputs/<stem>.md` so execution never overwrites the step's own contract (original defect).
 */
export const buildSpecFromStepFiles = (
  fileNames: readonly string[],
  options: BuildSpecOptions,
): ProtocolSpec => ({
  steps: selectStepFiles(fileNames).map((fileName, order) => ({
    id: fileName.replace(/\.md$/, ''),
    name: fileName,
    engine_id: options.engineId,
    model: null,
    prompt_ref: fileName,
    outputs: { protocol: defaultStepOutput(fileName) },
    step_type: inferStepType(fileName),
    policies: [],
    qa: { policy: options.qaPolicy },
    order,
  })),
})

/** Where a step's output goes when its spec names none: `outputs/<step stem>.md`. */
export const defaultStepOutput = (stepName: string): string => `outputs/${stepName.replace(/\.md$/, '')}.md`

/** True for a non-empty object: the original hashes and validates only such specs. */
export const hasSpec = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
