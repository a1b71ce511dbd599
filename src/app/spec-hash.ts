import { createHash } from 'node:crypto'
import type { JsonValue } from '../domain/json.js'

/**
 * First 12 hex characters of SHA-256 over the spec's canonical JSON (sorted keys, no blanks,
 * non-ASCII escaped as \uXXXX), or null for an absent or empty spec.
 */
export const specHash = (spec: JsonValue | null | undefined): string | null => {
  if (spec === null || spec === undefined || typeof spec !== 'object') return null
  if (!Array.isArray(spec) && Object.keys(spec).length === 0) return null
  return createHash('sha256').update(canonical(spec), 'utf8').digest('hex').slice(0, 12)
}

const canonical = (value: JsonValue): string => {
  if (value === null || typeof value !== 'object') return asciiJson(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((key) => `${asciiJson(key)}:${canonical(value[key] as JsonValue)}`).join(',')}}`
}

const asciiJson = (value: string | number | boolean | null): string =>
  JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
