import type { JsonObject } from './json.js'
import type { ModelPhase } from './project.js'
import type { ProtocolSpec, StepSpec } from './spec.js'

/** Everything that may name an engine or a model for one call, highest precedence first. */
export interface SelectionInputs {
  readonly phase: ModelPhase
  /** The step's spec (absent for planning and decomposition). */
  readonly step?: StepSpec
  /** Values stored on the StepRun (set by imports or earlier runs). */
  readonly stepRun?: { readonly engineId: string | null; readonly model: string | null }
  readonly protocol?: ProtocolSpec
  /** The project's `default_models` (`planning`, `decompose`, `exec`, `qa`, and optionally `engine`). */
  readonly projectDefaults?: JsonObject | null
  /** `PROTOCOL_<PHASE>_MODEL` from the configuration. */
  readonly configModel?: string
  readonly registryDefaultEngineId: string
  /** The engine's own default model, once the engine is chosen. */
  readonly engineDefaultModel: (engineId: string) => string | null
}

export interface EngineSelection {
  readonly engineId: string
  /** null: let the engine use its own configuration. */
  readonly model: string | null
}

/**
 * One precedence chain for every phase (the original had a different one per worker path):
 * engine: StepSpec (`qa.engine_id` first for QA) → StepRun → ProtocolSpec → project
 * `default_models.engine` → registry default; model: StepSpec (`qa.model` for QA) → StepRun →
 * ProtocolSpec (`models[phase]`, then `model`) → project `default_models[phase]` →
 * `PROTOCOL_<PHASE>_MODEL` → the engine's default.
 */
export const selectEngineAndModel = (inputs: SelectionInputs): EngineSelection => {
  const { phase, step, stepRun, protocol } = inputs
  const qa = phase === 'qa'
  const engineId =
    first(
      qa ? step?.qa.engine_id : undefined,
      step?.engine_id,
      stepRun?.engineId,
      protocol?.engine_id,
      text(inputs.projectDefaults?.engine),
    ) ?? inputs.registryDefaultEngineId
  const model =
    first(
      qa ? step?.qa.model : step?.model,
      qa ? undefined : stepRun?.model,
      protocol?.models?.[phase],
      protocol?.model,
      text(inputs.projectDefaults?.[phase]),
      inputs.configModel,
    ) ?? inputs.engineDefaultModel(engineId)
  return { engineId, model }
}

const first = (...values: ReadonlyArray<string | null | undefined>): string | undefined =>
  values.find((value): value is string => typeof value === 'string' && value.trim() !== '')

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
