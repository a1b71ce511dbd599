/**
 * What a failed agent call means, read from what its CLI printed. The messages are the real CLIs'
 * (see docs/decisions.md, "Usage limits"): codex, claude and opencode all exit non-zero on a usage
 * limit and say so in words, sometimes with the time the limit resets.
 */
export type EngineExitClass =
  | { readonly kind: 'usage_limit'; readonly resetAt: Date | null; readonly quote: string }
  | { readonly kind: 'auth'; readonly quote: string }
  | { readonly kind: 'crash' }

/** Usage, credit, quota and rate limits, as codex, claude and opencode print them. */
const LIMIT_PATTERNS: readonly RegExp[] = [
  /you'?ve hit your [\w' ]*limit/i, // codex "You've hit your usage limit.", claude "You've hit your usage limit · resets 3pm"
  /you'?ve reached your [\w' ]*limit/i, // codex "You've reached your usage limit."
  /usage limit reached/i, // codex, opencode "Usage limit reached. It will reset in 2 hours 15 minutes."
  /quota exceeded/i, // codex "Quota exceeded. Check your plan and billing details."
  /rate limit (?:exceeded|reached)/i, // codex "rate limit exceeded: …"
  /rate_limit_(?:exceeded|error)/i, // API error types relayed by opencode and claude
  /you'?re out of (?:usage )?credits/i, // codex, claude
]

const AUTH_PATTERNS: readonly RegExp[] = [
  /not logged in/i,
  /please (?:log|sign) ?in/i,
  /invalid (?:api|x-api) key/i,
  /authentication (?:failed|error|required)/i,
  /\b401\b.*unauthori[sz]ed|unauthori[sz]ed.*\b401\b/i,
]

/** Classifies a non-zero exit by its output; `now` anchors reset times printed without a date. */
export const classifyEngineExit = (text: string, now: Date): EngineExitClass => {
  const limit = firstMatchingLine(text, LIMIT_PATTERNS)
  if (limit !== undefined) return { kind: 'usage_limit', resetAt: parseResetTime(text, now), quote: limit }
  const auth = firstMatchingLine(text, AUTH_PATTERNS)
  if (auth !== undefined) return { kind: 'auth', quote: auth }
  return { kind: 'crash' }
}

/**
 * The reset instant a limit message names, or null. Understood: an ISO instant; a duration
 * (`reset in 2 hours 15 minutes`, `try again in 30s`); a wall-clock time (`try again at 3:15 PM`,
 * `resets 3pm`, `resets Dec 5, 3pm`, `try again at Jan 3rd, 2027 2:15 PM`), read in this machine's
 * time zone — the CLI runs here and prints local time — and moved to the next day (or year) when
 * it has already passed today.
 */
export const parseResetTime = (text: string, now: Date): Date | null =>
  isoReset(text) ?? durationReset(text, now) ?? clockReset(text, now)

const isoReset = (text: string): Date | null => {
  const match = /(?:reset|again)[^\n\d]{0,20}(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))/i.exec(text)
  const at = match ? new Date(match[1]!) : null
  return at && !Number.isNaN(at.getTime()) ? at : null
}

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }

const durationReset = (text: string, now: Date): Date | null => {
  const match = /(?:resets?|again) in ((?:\d+\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(text)
  if (!match) return null
  let ms = 0
  for (const [, amount, unit] of match[1]!.matchAll(/(\d+)\s*([a-z]+)/gi)) {
    const key = unit!.toLowerCase().startsWith('mo') ? undefined : unit!.toLowerCase()[0]
    if (key !== undefined && UNIT_MS[key] !== undefined) ms += Number(amount) * UNIT_MS[key]!
  }
  return ms > 0 ? new Date(now.getTime() + ms) : null
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

const clockReset = (text: string, now: Date): Date | null => {
  const match =
    /(?:try again at|resets(?: at)?)\s+(?:([a-z]{3})[a-z]*\s+(\d{1,2})(?:st|nd|rd|th)?,?\s*(?:(\d{4}),?\s+)?)?(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b/i.exec(
      text,
    )
  if (!match) return null
  const [, month, day, year, hour, minute, half] = match
  const hours = (Number(hour) % 12) + (half!.toLowerCase() === 'p' ? 12 : 0)
  const at = new Date(now)
  at.setSeconds(0, 0)
  at.setHours(hours, Number(minute ?? 0))
  if (month !== undefined) {
    const monthIndex = MONTHS.indexOf(month.toLowerCase())
    if (monthIndex < 0) return null
    at.setFullYear(year ? Number(year) : now.getFullYear(), monthIndex, Number(day))
    if (!year && at <= now) at.setFullYear(at.getFullYear() + 1)
  } else if (at <= now) at.setDate(at.getDate() + 1)
  return at
}

const firstMatchingLine = (text: string, patterns: readonly RegExp[]): string | undefined =>
  text
    .split('\n')
    .find((line) => patterns.some((pattern) => pattern.test(line)))
    ?.trim()
    .slice(0, 500)
