import { describe, expect, it } from 'vitest'
import { parseVerdict } from './verdict.js'

describe('parseVerdict', () => {
  const cases: Array<[string, 'PASS' | 'FAIL']> = [
    ['VERDICT: PASS', 'PASS'],
    ['Verdict: PASS', 'PASS'],
    ['verdict: pass', 'PASS'],
    ['**Verdict:** PASS', 'PASS'],
    ['- Verdict: PASS', 'PASS'],
    ['## VERDICT: PASS', 'PASS'],
    ['> **VERDICT**: `PASS`', 'PASS'],
    ['VERDICT: PASS\nVERDICT: FAIL', 'FAIL'],
    ['Verdict: FAIL\nverdict: pass', 'PASS'],
    ['Verdict: PASS or FAIL', 'FAIL'],
    ['Verdict: passed, no failures', 'FAIL'],
    ['VERDICT', 'FAIL'],
    ['', 'FAIL'],
    ['   \n  ', 'FAIL'],
    ['All good, ship it.', 'FAIL'],
    ['Summary\n\nThe verdict is PASS', 'FAIL'],
  ]
  for (const [report, verdict] of cases)
    it(`reads ${JSON.stringify(report)} as ${verdict}`, () =>
      expect(parseVerdict(report).verdict).toBe(verdict))

  it('returns the deciding line', () => {
    expect(parseVerdict('notes\n**Verdict:** FAIL\n').line).toBe('**Verdict:** FAIL')
  })
})
