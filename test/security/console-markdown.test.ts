import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseInline, parseMarkdown, safeHref, type Inline } from '../../console/src/logic/markdown.js'

// Issue 15 #11: the console renders agent-written Markdown (untrusted). Parsing must stay linear
// (a heading regex took 18 s on 4 kB), and no link may carry a scheme other than http(s)/mailto.

/** Wall-clock limit for one input (generous for a busy CI box): the old parser needed 5-20 s and more for the shapes below. */
const PER_INPUT_MS = 1_500

const timed = (text: string): number => {
  const started = performance.now()
  parseMarkdown(text)
  parseInline(text)
  return performance.now() - started
}

/** Shapes that make backtracking parsers slow, at sizes a step report easily reaches. */
const PATHOLOGICAL: Record<string, string> = {
  'heading with inner spaces': `# a${' '.repeat(20_000)}b`,
  'rule look-alike': `-${' '.repeat(20_000)}x`,
  'unclosed emphasis': '*a '.repeat(20_000),
  'unclosed strong': '**a '.repeat(20_000),
  'backtick runs of every length': Array.from({ length: 200 }, (_, n) => `${'`'.repeat(n + 1)}x`).join(' '),
  'open brackets': `${'['.repeat(40_000)}]`,
  'links without a closing parenthesis': '[a]('.repeat(10_000),
  'deep quotes': `${'>'.repeat(20_000)} x`,
  'hash runs': `# ${'#a'.repeat(10_000)}`,
}

/** Markdown-ish text: the characters that start or end constructs, mixed with words and spaces. */
const markdownish = fc
  .array(
    fc.oneof(
      fc.constantFrom('#', '*', '**', '_', '`', '```', '[', ']', '(', ')', '>', '-', '\\', ' ', '\n', '\t'),
      fc.constantFrom('a', 'word', 'javascript:', 'http://x', '\u0001', '1.', '  '),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 400 },
  )
  .map((parts) => parts.join(''))

const hrefs = (nodes: readonly Inline[]): string[] =>
  nodes.flatMap((node) =>
    node.kind === 'link'
      ? [node.href, ...hrefs(node.children)]
      : 'children' in node
        ? hrefs(node.children)
        : [],
  )

describe('console markdown against hostile input', () => {
  for (const [name, text] of Object.entries(PATHOLOGICAL))
    it(`parses ${name} (${text.length} chars) within ${PER_INPUT_MS} ms`, () => {
      expect(timed(text)).toBeLessThan(PER_INPUT_MS)
    })

  it('parses any markdown-ish text in bounded time, at any repetition', () => {
    fc.assert(
      fc.property(markdownish, fc.integer({ min: 1, max: 60 }), (unit, times) => {
        expect(timed(unit.repeat(times))).toBeLessThan(PER_INPUT_MS)
      }),
      { numRuns: 300 },
    )
  })

  it('never produces a link whose browser-visible scheme is not http(s) or mailto', () => {
    fc.assert(
      fc.property(markdownish, (text) => {
        for (const href of hrefs(parseInline(text))) expect(safeHref(href)).toBe(href)
      }),
      { numRuns: 300 },
    )
    for (const sneaky of [
      '\u0001javascript:alert(1)',
      'java\tscript:alert(1)',
      ' \u0000data:x',
      '/\\evil.example',
    ])
      expect(safeHref(sneaky), JSON.stringify(sneaky)).toBeUndefined()
    expect(parseInline('[x](\u0001javascript:alert(1))')).toEqual([
      { kind: 'text', text: '[x](\u0001javascript:alert(1))' },
    ])
    expect(safeHref('https://ok.example/a?b#c')).toBe('https://ok.example/a?b#c')
    expect(safeHref('docs/run.md#step-2')).toBe('docs/run.md#step-2')
  })
})
