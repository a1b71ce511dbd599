import type { JsonObject, JsonValue } from '../../domain/json.js'

/** The wall clock as stored: ISO-8601 UTC with milliseconds and `Z`, identical on both dialects. */
export const nowIso = (): string => new Date().toISOString()

/** Normalises what either driver returns for a timestamp column to ISO-8601 UTC with `Z`. */
export const toIso = (value: string | Date): string =>
  value instanceof Date ? value.toISOString() : new Date(value).toISOString()

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
