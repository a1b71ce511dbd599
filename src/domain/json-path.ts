import type { JsonObject, JsonValue } from './json.js'

/** Reads a nested value without trusting the payload's shape. */
export const at = (value: JsonValue | undefined, ...path: (string | number)[]): JsonValue | undefined => {
  let current: JsonValue | undefined = value
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = Array.isArray(current)
      ? typeof key === 'number'
        ? current[key]
        : undefined
      : current[String(key)]
  }
  return current
}

export const textAt = (value: JsonValue | undefined, ...path: (string | number)[]): string | null => {
  const found = at(value, ...path)
  return typeof found === 'string' && found !== '' ? found : null
}

export const numberAt = (value: JsonValue | undefined, ...path: (string | number)[]): number | null => {
  const found = at(value, ...path)
  return typeof found === 'number' && Number.isFinite(found) ? found : null
}

export const objectAt = (value: JsonValue | undefined, ...path: (string | number)[]): JsonObject | null => {
  const found = at(value, ...path)
  return found !== null && typeof found === 'object' && !Array.isArray(found) ? found : null
}

/** Drops null entries so stored details stay small. */
export const compact = (entries: Record<string, JsonValue | null | undefined>): JsonObject =>
  Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== null && v !== undefined)) as JsonObject
