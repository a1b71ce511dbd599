import { describe, expect, it } from 'vitest'
import { classifyEngineExit, parseResetTime } from './engine-failure.js'

// 2026-12-04 10:00 local time.
const NOW = new Date(2026, 11, 4, 10, 0, 0)
const local = (month: number, day: number, hours: number, minutes = 0, year = 2026) =>
  new Date(year, month, day, hours, minutes)

describe('engine exit classification', () => {
  it('reads the usage limits codex, claude and opencode print, with their reset times', () => {
    const codex = classifyEngineExit(
      "ERROR: You've hit your usage limit. Visit https://chatgpt.com/settings/usage to purchase more credits or try again at 3:15 PM.",
      NOW,
    )
    expect(codex).toMatchObject({ kind: 'usage_limit', resetAt: local(11, 4, 15, 15) })
    const claude = classifyEngineExit("You've hit your usage limit · resets 3pm (Europe/London)", NOW)
    expect(claude).toMatchObject({ kind: 'usage_limit', resetAt: local(11, 4, 15) })
    const opencode = classifyEngineExit(
      'Usage limit reached. It will reset in 2 hours 15 minutes. To continue using this model now, enable usage from',
      NOW,
    )
    expect(opencode).toMatchObject({ kind: 'usage_limit', resetAt: new Date(NOW.getTime() + 8_100_000) })
  })

  it('takes a limit without a reset time as a limit with an unknown reset', () => {
    expect(classifyEngineExit('Quota exceeded. Check your plan and billing details.', NOW)).toEqual({
      kind: 'usage_limit',
      resetAt: null,
      quote: 'Quota exceeded. Check your plan and billing details.',
    })
    expect(classifyEngineExit('stream error: rate limit exceeded: slow down', NOW).kind).toBe('usage_limit')
  })

  it('tells an authentication failure and a plain crash apart from a limit', () => {
    expect(classifyEngineExit('Error: Not logged in · Please run /login', NOW).kind).toBe('auth')
    expect(classifyEngineExit('panicked at core/src/lib.rs:12', NOW)).toEqual({ kind: 'crash' })
  })
})

describe('reset times', () => {
  it('moves a time of day that has passed to tomorrow, and a dated one without a year to next year', () => {
    expect(parseResetTime('try again at 9:30 AM', NOW)).toEqual(local(11, 5, 9, 30))
    expect(parseResetTime('resets Jan 3rd, 2pm', NOW)).toEqual(local(0, 3, 14, 0, 2027))
    expect(parseResetTime('try again at Dec 6th, 2026 2:15 PM.', NOW)).toEqual(local(11, 6, 14, 15))
  })

  it('reads ISO instants and short durations, and gives up on anything else', () => {
    expect(parseResetTime('limit resets at 2026-12-04T12:00:00Z', NOW)).toEqual(
      new Date('2026-12-04T12:00:00Z'),
    )
    expect(parseResetTime('try again in 30s', NOW)).toEqual(new Date(NOW.getTime() + 30_000))
    expect(parseResetTime('try again later', NOW)).toBeNull()
  })
})
