/** One sample line of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/**
 * Parses Prometheus text format 0.0.4: comments skipped, labels in any order with `\\`, `\"` and
 * `\n` escapes, values including `NaN`, `+Inf` and exponents. Malformed lines are skipped.
 */
export const parsePrometheus = (text: string): Sample[] => {
  const samples: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const sample = parseLine(line)
    if (sample) samples.push(sample)
  }
  return samples
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

const parseLine = (line: string): Sample | undefined => {
  const name = NAME.exec(line)?.[0]
  if (!name) return undefined
  let rest = line.slice(name.length)
  let labels: Record<string, string> = {}
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest)
    if (!parsed) return undefined
    labels = parsed.labels
    rest = rest.slice(parsed.length)
  }
  const valueText = rest.trim().split(/\s+/)[0] ?? ''
  const value = parseValue(valueText)
  return value === undefined ? undefined : { name, labels, value }
}

const parseLabels = (text: string): { labels: Record<string, string>; length: number } | undefined => {
  const labels: Record<string, string> = {}
  let i = 1
  for (;;) {
    while (text[i] === ' ' || text[i] === ',') i++
    if (text[i] === '}') return { labels, length: i + 1 }
    const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0]
    if (!key || text[i + key.length] !== '=' || text[i + key.length + 1] !== '"') return undefined
    i += key.length + 2
    let value = ''
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\' && i + 1 < text.length) {
        i++
        value += text[i] === 'n' ? '\n' : text[i]
      } else value += text[i]
    }
    if (i >= text.length) return undefined
    labels[key] = value
    i++
  }
}

const parseValue = (text: string): number | undefined => {
  if (text === '+Inf' || text === 'Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  const value = Number(text)
  return text !== '' && Number.isFinite(value) ? value : undefined
}

/** Sums a metric's samples grouped by the value of one label. */
export const sumBy = (samples: readonly Sample[], metric: string, label: string): Map<string, number> => {
  const totals = new Map<string, number>()
  for (const s of samples) {
    if (s.name !== metric || !Number.isFinite(s.value)) continue
    const key = s.labels[label] ?? ''
    totals.set(key, (totals.get(key) ?? 0) + s.value)
  }
  return totals
}

export interface QaSummary {
  readonly verdicts: readonly { verdict: string; count: number }[]
  readonly total: number
  /** Share of `pass` verdicts in [0, 1], or undefined with no verdict yet. */
  readonly passRate: number | undefined
}

export const qaSummary = (samples: readonly Sample[]): QaSummary => {
  const byVerdict = sumBy(samples, 'qa_verdict_total', 'verdict')
  const verdicts = [...byVerdict].map(([verdict, count]) => ({ verdict: verdict.toLowerCase(), count }))
  const total = verdicts.reduce((sum, v) => sum + v.count, 0)
  const pass = verdicts.filter((v) => v.verdict === 'pass').reduce((sum, v) => sum + v.count, 0)
  return { verdicts, total, passRate: total > 0 ? pass / total : undefined }
}

export interface TokenRow {
  readonly phase: string
  readonly model: string
  readonly tokens: number
}

/**
 * Token usage per phase and model: the estimates (`codex_token_estimated_total`) and, where the
 * server reports them, actual counts (`agent_tokens_total`). Sorted by tokens, largest first.
 */
export const tokenUsage = (samples: readonly Sample[]): { estimated: TokenRow[]; actual: TokenRow[] } => {
  const rows = (metric: string) => {
    const totals = new Map<string, TokenRow>()
    for (const s of samples) {
      if (s.name !== metric || !Number.isFinite(s.value)) continue
      const phase = s.labels.phase ?? '?'
      const model = s.labels.model || 'default'
      const key = `${phase}\u0000${model}`
      const prior = totals.get(key)?.tokens ?? 0
      totals.set(key, { phase, model, tokens: prior + s.value })
    }
    return [...totals.values()].sort((a, b) => b.tokens - a.tokens)
  }
  return { estimated: rows('codex_token_estimated_total'), actual: rows('agent_tokens_total') }
}

/** Jobs processed per status (`completed`, `retried`, `failed`). */
export const jobOutcomes = (samples: readonly Sample[]): Map<string, number> =>
  sumBy(samples, 'jobs_processed_total', 'status')
