import type { JsonObject, JsonValue } from '../../domain/json.js'

/** The wall clock as stored: ISO-8601 UTC with milliseconds and `Z`, identical on both dialects. */
export const nowIso = (): string => new Date().toISOString()

/** Normalises what either driver returns for a timestamp column to ISO-8601 UTC with `Z`. */
export const toIso = (value: string | Date): string => {
  if (value instanceof Date) return value.toISOString()
  // What this code writes is already in that form; re-parsing it is a large part of reading a row.
  return STORED_ISO.test(value) ? value : new Date(value).toISOString()
}

const STORED_ISO = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/

export const encodeJson = (value: JsonValue | null | undefined): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value)

/** Parses a JSON column; unreadable text reads as null rather than failing the whole request. */
export const decodeJson = (text: string | null): JsonValue | null => {
  if (text === null) return null
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return null
  }
}

export const decodeJsonObject = (text: string | null): JsonObject | null => {
  const value = decodeJson(text)
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null
}

/**
 * How many distinct texts `decodeSharedJsonObject` keeps decoded: a few pages of a console's
 * polled listings, while a few hundred specs (each text plus its object) stay a few MB.
 */
const SHARED_DECODE_CACHE_SIZE = 256
const decoded = new Map<string, JsonObject | null>()

/**
 * `decodeJsonObject` for large, rarely changing columns read on every listing (a run's
 * `template_config` holds its whole spec): the decoded value is remembered by its text and deeply
 * frozen, so every reader shares one immutable object and listings stop parsing the same text
 * again and again (and consumers such as the spec hash can remember results by identity).
 */
export const decodeSharedJsonObject = (text: string | null): JsonObject | null => {
  if (text === null) return null
  const known = decoded.get(text)
  if (known !== undefined) {
    // Re-inserted so the map's order is least recently used first.
    decoded.delete(text)
    decoded.set(text, known)
    return known
  }
  const value = decodeJsonObject(text)
  if (value !== null) deepFreeze(value)
  if (decoded.size >= SHARED_DECODE_CACHE_SIZE) decoded.delete(decoded.keys().next().value!)
  decoded.set(text, value)
  return value
}

const deepFreeze = (value: JsonValue): void => {
  if (value === null || typeof value !== 'object') return
  Object.freeze(value)
  for (const child of Object.values(value)) deepFreeze(child)
}
