import type { WireTime } from '../api/types.js'

/**
 * Milliseconds since the epoch for any timestamp the API sends: ISO-8601, the original's
 * `YYYY-MM-DD HH:MM:SS` (UTC without a zone marker) or epoch seconds (jobs). Undefined if unparseable.
 */
export const toMillis = (value: WireTime | undefined): number | undefined => {
  if (value === null || value === undefined || value === '') return undefined
  if (typeof value === 'number') return value > 1e11 ? value : value * 1000
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`
  const ms = Date.parse(zoned)
  return Number.isNaN(ms) ? undefined : ms
}

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
]

/** "5 minutes ago", "just now", "in 2 hours"; '—' when the time is unknown. */
export const relativeTime = (value: WireTime | undefined, now: number = Date.now()): string => {
  const ms = toMillis(value)
  if (ms === undefined) return '—'
  const seconds = Math.round((ms - now) / 1000)
  if (Math.abs(seconds) < 10) return 'just now'
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit)
  }
  return 'just now'
}

/** The full local date and time, for a `title` beside a relative time. */
export const absoluteTime = (value: WireTime | undefined): string => {
  const ms = toMillis(value)
  return ms === undefined ? '' : new Date(ms).toLocaleString()
}

/** Seconds between two timestamps, as "1m 05s". */
export const duration = (from: WireTime | undefined, to: WireTime | undefined): string => {
  const a = toMillis(from)
  const b = toMillis(to)
  if (a === undefined || b === undefined) return '—'
  const seconds = Math.max(0, Math.round((b - a) / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`
}
