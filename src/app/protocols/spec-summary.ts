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
    specHash: cachedSpecHash(spec),
    validationStatus: typeof meta?.status === 'string' ? meta.status : null,
    validationErrors: errors.length > 0 ? errors : null,
    validatedAt: typeof meta?.validated_at === 'string' ? meta.validated_at : null,
  }
}

/** How many distinct specs keep their hash; runs share few specs, and each entry is a spec's text. */
const HASH_CACHE_SIZE = 1024
const hashes = new Map<string, string | null>()
/** The same, by the spec object itself: storage hands out one shared object per stored text. */
const hashesBySpec = new WeakMap<JsonObject, string | null>()

/**
 * The spec hash, remembered by the spec's plain JSON text: canonical JSON plus SHA-256 costs
 * about twenty times what `JSON.stringify` does, and every run listing needs it for each run.
 * Equal text means an equal parsed value, so the remembered hash is the one `specHash` gives.
 */
const cachedSpecHash = (spec: JsonObject | null): string | null => {
  if (spec === null) return null
  const byIdentity = hashesBySpec.get(spec)
  if (byIdentity !== undefined) return byIdentity
  const key = JSON.stringify(spec)
  let hash = hashes.get(key)
  if (hash === undefined) {
    hash = specHash(spec)
    if (hashes.size >= HASH_CACHE_SIZE) hashes.delete(hashes.keys().next().value!)
    hashes.set(key, hash)
  }
  // Only a frozen spec can be remembered by identity: a mutable one could change under its hash.
  if (Object.isFrozen(spec)) hashesBySpec.set(spec, hash)
  return hash
}

const asObject = (value: JsonValue | undefined): JsonObject | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null
