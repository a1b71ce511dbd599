import { describe, expect, it } from 'vitest'
import { duration, relativeTime, toMillis } from './time.js'

describe('time', () => {
  it('reads ISO, the original SQLite format (UTC) and epoch seconds alike', () => {
    const iso = Date.parse('2026-11-24T00:26:58Z')
    expect(toMillis('2026-11-24T00:26:58.000Z')).toBe(iso)
    expect(toMillis('2026-11-24 00:26:58')).toBe(iso)
    expect(toMillis(iso / 1000)).toBe(iso)
    expect(toMillis('garbage')).toBeUndefined()
    expect(toMillis(null)).toBeUndefined()
  })

  it('says how long ago, in words', () => {
    const now = Date.parse('2026-11-24T01:00:00Z')
    expect(relativeTime('2026-11-24T00:59:58Z', now)).toBe('just now')
    expect(relativeTime('2026-11-24T00:55:00Z', now)).toBe('5 minutes ago')
    expect(relativeTime('2026-11-23T01:00:00Z', now)).toBe('yesterday')
    expect(relativeTime(undefined, now)).toBe('—')
  })

  it('formats durations', () => {
    expect(duration(0, 65)).toBe('1m 05s')
    expect(duration(0, 3 * 3600 + 60)).toBe('3h 01m')
  })
})
