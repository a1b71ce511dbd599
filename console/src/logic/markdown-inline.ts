/**
 * Inline Markdown (code spans, strong, emphasis, links, escapes) by a single left-to-right scan.
 * Agent output is untrusted and can be large, so the scan stays linear: closers are found with
 * indexOf, a delimiter whose closer was not found is never searched for again from later in the
 * same text, and nesting is cut off at MAX_INLINE_DEPTH (deeper markup stays text).
 */
export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'strong' | 'em'; readonly children: Inline[] }
  | { readonly kind: 'link'; readonly href: string; readonly children: Inline[] }

const MAX_INLINE_DEPTH = 6
const ESCAPABLE = new Set(['\\', '`', '*', '_', '[', ']', '(', ')', '#', '>', '-'])

/** Where one construct ends and what it became (a refused link comes back as its literal text). */
interface Span {
  readonly node: Inline
  readonly end: number
}

/** Per text and closing token: the last search's start and what it found (-1: nothing). */
type Closers = Map<string, { readonly from: number; readonly found: number }>

export const parseInline = (text: string, safeHref: (href: string) => string | undefined): Inline[] =>
  parseAt(text, 0, safeHref)

const parseAt = (text: string, depth: number, safeHref: (href: string) => string | undefined): Inline[] => {
  const out: Inline[] = []
  const scan: Scan = { text, depth, closers: new Map(), failedLinkAt: new Set(), safeHref }
  let plain = ''
  let i = 0
  while (i < text.length) {
    const char = text[i] ?? ''
    if (char === '\\' && ESCAPABLE.has(text[i + 1] ?? '')) {
      plain += text[i + 1]
      i += 2
      continue
    }
    const span = spanAt(scan, i)
    if (span && span.node.kind !== 'text') {
      if (plain) out.push({ kind: 'text', text: plain })
      plain = ''
      out.push(span.node)
    } else plain += span ? (span.node as { text: string }).text : char
    i = span ? span.end : i + 1
  }
  if (plain) out.push({ kind: 'text', text: plain })
  return out
}

interface BacktickRuns {
  readonly starts: number[]
  next: number
}

interface Scan {
  readonly text: string
  /** Built on the first backtick met. */
  backtickRuns?: Map<number, BacktickRuns>
  readonly depth: number
  readonly closers: Closers
  /** Label ends (`]`) already known not to start a link, so `[[[[…]` is not rescanned per `[`. */
  readonly failedLinkAt: Set<number>
  readonly safeHref: (href: string) => string | undefined
}

const spanAt = (scan: Scan, i: number): Span | undefined => {
  const char = scan.text[i]
  if (char === '`') return codeSpan(scan, i)
  if (scan.depth >= MAX_INLINE_DEPTH) return undefined
  if (char === '*' || char === '_') return emphasis(scan, i)
  if (char === '[') return link(scan, i)
  return undefined
}

/** A run of n backticks up to the next run of exactly n; an unmatched run is literal text, whole. */
const codeSpan = (scan: Scan, i: number): Span => {
  const { text } = scan
  let n = 0
  while (text[i + n] === '`') n++
  const run = '`'.repeat(n)
  const close = nextRunOfLength(scan, n, i)
  if (close < 0) return { node: { kind: 'text', text: run }, end: i + n }
  return { node: { kind: 'code', text: text.slice(i + n, close).trim() }, end: close + n }
}

/** `**strong**` / `__strong__` first, then `*em*` / `_em_`; the opener must touch its text. */
const emphasis = (scan: Scan, i: number): Span | undefined => {
  const { text } = scan
  const char = text[i] ?? ''
  const double = char + char
  if (text.startsWith(double, i) && /\S/.test(text[i + 2] ?? '')) {
    const close = findCloser(scan, double, i + 3, (j) => /\S/.test(text[j - 1] ?? ''))
    if (close >= 0) return nested(scan, 'strong', i + 2, close, close + 2)
  }
  if (!/\S/.test(text[i + 1] ?? '')) return undefined
  const close = findCloser(
    scan,
    char,
    i + 2,
    (j) => /\S/.test(text[j - 1] ?? '') && text[j + 1] !== '*' && text[j + 1] !== '_',
  )
  return close < 0 ? undefined : nested(scan, 'em', i + 1, close, close + 1)
}

const nested = (scan: Scan, kind: 'strong' | 'em', from: number, to: number, end: number): Span => ({
  node: { kind, children: parseAt(scan.text.slice(from, to), scan.depth + 1, scan.safeHref) },
  end,
})

/** `[label](href)`: the label runs to the first `]`, the href to the first `)` with no space in it. */
const link = (scan: Scan, i: number): Span | undefined => {
  const { text } = scan
  const labelEnd = findCloser(scan, ']', i + 1, () => true)
  if (labelEnd <= i + 1 || scan.failedLinkAt.has(labelEnd)) return undefined
  const hrefEnd = text[labelEnd + 1] === '(' ? findCloser(scan, ')', labelEnd + 2, () => true) : -1
  const space = hrefEnd < 0 ? -1 : findWhitespace(scan, labelEnd + 2)
  if (hrefEnd <= labelEnd + 2 || (space >= 0 && space < hrefEnd)) {
    scan.failedLinkAt.add(labelEnd)
    return undefined
  }
  const end = hrefEnd + 1
  const href = scan.safeHref(text.slice(labelEnd + 2, hrefEnd))
  if (!href) return { node: { kind: 'text', text: text.slice(i, end) }, end }
  const children = parseAt(text.slice(i + 1, labelEnd), scan.depth + 1, scan.safeHref)
  return { node: { kind: 'link', href, children }, end }
}

/**
 * The first index ≥ from where `token` occurs and `fits` (a test of the position alone, the same
 * for every call with this token), or -1.
 */
const findCloser = (scan: Scan, token: string, from: number, fits: (j: number) => boolean): number =>
  cachedSearch(scan, token, from, () => {
    for (let j = scan.text.indexOf(token, from); j >= 0; j = scan.text.indexOf(token, j + 1))
      if (fits(j)) return j
    return -1
  })

/**
 * The start of the first whole run of exactly `length` backticks after `after`. Runs are listed once
 * per text, by length, and each length's list is walked forward only.
 */
const nextRunOfLength = (scan: Scan, length: number, after: number): number => {
  scan.backtickRuns ??= listBacktickRuns(scan.text)
  const runs = scan.backtickRuns.get(length)
  if (!runs) return -1
  while (runs.next < runs.starts.length && (runs.starts[runs.next] ?? 0) <= after) runs.next++
  return runs.starts[runs.next] ?? -1
}

const listBacktickRuns = (text: string): Map<number, BacktickRuns> => {
  const byLength = new Map<number, BacktickRuns>()
  for (let i = text.indexOf('`'); i >= 0; i = text.indexOf('`', i)) {
    let end = i
    while (text[end] === '`') end++
    const runs = byLength.get(end - i) ?? { starts: [], next: 0 }
    runs.starts.push(i)
    byLength.set(end - i, runs)
    i = end
  }
  return byLength
}

const WHITESPACE = /\s/g

const findWhitespace = (scan: Scan, from: number): number =>
  cachedSearch(scan, ' whitespace', from, () => {
    WHITESPACE.lastIndex = from
    return WHITESPACE.exec(scan.text)?.index ?? -1
  })

/**
 * Openers are met left to right, so the last answer for a key still holds while `from` has not
 * passed it: each key costs one scan of the text in all, however many openers ask.
 */
const cachedSearch = (scan: Scan, key: string, from: number, search: () => number): number => {
  const last = scan.closers.get(key)
  if (last && from >= last.from && (last.found < 0 || from <= last.found)) return last.found
  const found = search()
  scan.closers.set(key, { from, found })
  return found
}
