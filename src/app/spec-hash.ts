import { createHash } from 'node:crypto'
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse } from 'lossless-json'
import { canonicalJson } from '../domain/canonical-json.js'
import { hasSpec } from '../domain/spec.js'

const SPEC_HASH_LENGTH = 12

/**
 * The original's `spec_hash`: the first 12 hex characters of SHA-256 over the spec's canonical
 * JSON (Python `json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=True)`), or null
 * when the spec is absent or an empty object.
 *
 * A spec that went through plain `JSON.parse` has lost `1.0` versus `1`; its hash differs from
 * the original's when it holds integral floats (see docs/decisions.md). Parse losslessly
 * ({@link parseSpecJson}) wherever the source text is at hand.
 */
export const specHash = (spec: unknown): string | null => {
  if (!hasSpec(spec)) return null
  return createHash('sha256').update(canonicalJson(spec), 'utf8').digest('hex').slice(0, SPEC_HASH_LENGTH)
}

/** The hash of a spec given as JSON text, parsed without losing number spelling. */
export const specHashOfText = (json: string): string | null => specHash(parseSpecJson(json))

/**
 * Parses JSON keeping every float's spelling (as a LosslessNumber) and turning integers that fit
 * into plain numbers. The result is for hashing; hand it to {@link toPlainJson} before storing.
 */
export const parseSpecJson = (json: string): unknown =>
  parse(json, null, (text) =>
    /^-?\d+$/.test(text) && isSafeNumber(text) ? Number(text) : new LosslessNumber(text),
  )

/** Replaces LosslessNumbers with plain numbers (what storage and the API carry). */
export const toPlainJson = (value: unknown): unknown => {
  if (isLosslessNumber(value)) return value.valueOf()
  if (Array.isArray(value)) return value.map(toPlainJson)
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlainJson(item)]))
  return value
}
