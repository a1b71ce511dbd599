import type { JsonObject, JsonValue } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { specHash } from '../spec-hash.js'

export interface SpecSummary {
  readonly spec: JsonObject | null
  readonly specHash: string | null
  readonly validationStatus: string | null
  readonly validationErrors: string[] | null
  readonly validatedAt: string | null
}

/**
 * The run's spec and its validation state, taken from `template_config.spec_meta` alone (the
 * original also scanned events, which let any historical error stick forever).
 */
export const summarizeSpec = (run: Pick<ProtocolRun, 'templateConfig'>): SpecSummary => {
  const spec = asObject(run.templateConfig?.protocol_spec)
  const meta = asObject(run.templateConfig?.spec_meta)
  const errors = Array.isArray(meta?.errors)
    ? meta.errors.filter((e): e is string => typeof e === 'string')
    : []
  return {
    spec,
    specHash: specHash(spec),
    validationStatus: typeof meta?.status === 'string' ? meta.status : null,
    validationErrors: errors.length > 0 ? errors : null,
    validatedAt: typeof meta?.validated_at === 'string' ? meta.validated_at : null,
  }
}

const asObject = (value: JsonValue | undefined): JsonObject | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null
