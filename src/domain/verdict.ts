/** The outcome of a QA report. */
export const QA_VERDICTS = ['PASS', 'FAIL'] as const
export type QaVerdict = (typeof QA_VERDICTS)[number]

export interface ParsedVerdict {
  readonly verdict: QaVerdict
  /** The verdict line as found (trimmed), or null when the report has none. */
  readonly line: string | null
}

/**
 * Reads a QA report's verdict. The last line whose text, once markdown decoration is removed,
 * starts with `VERDICT` (any case) decides: PASS only when it says PASS and nowhere FAIL.
 * Fails closed: an empty report, no verdict line, or a line naming neither is FAIL.
 * Unlike the original, `**Verdict:** PASS`, `- Verdict: PASS` and `## Verdict: PASS` count.
 */
export const parseVerdict = (report: string): ParsedVerdict => {
  const lines = report.split(/\r?\n/)
  for (let i = lines.length - 1; i >= 0; i--) {
    const raw = lines[i]?.trim() ?? ''
    const plain = stripMarkdown(raw).toUpperCase()
    if (!plain.startsWith('VERDICT')) continue
    const pass = plain.includes('PASS') && !plain.includes('FAIL')
    return { verdict: pass ? 'PASS' : 'FAIL', line: raw }
  }
  return { verdict: 'FAIL', line: null }
}

/** Removes list markers, headings, quotes and emphasis so only the words remain. */
const stripMarkdown = (line: string): string =>
  line
    .replace(/[*_`~]/g, '')
    .replace(/^(?:[#>]+|[-+•]|\d+[.)])\s*/, '')
    .replace(/^(?:[#>]+|[-+•]|\d+[.)])\s*/, '')
    .trim()
