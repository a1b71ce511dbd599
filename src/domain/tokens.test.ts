import { describe, expect, it } from 'vitest'
import { decideBudget, estimateTokens } from './tokens.js'

describe('estimateTokens', () => {
  it('is ceil(code points / 4), at least 1', () => {
    expect(estimateTokens('')).toBe(1)
    expect(estimateTokens('abcd')).toBe(1)
    expect(estimateTokens('abcde')).toBe(2)
    expect(estimateTokens('😀😀😀😀😀')).toBe(2)
  })
})

describe('decideBudget', () => {
  const limits = { maxTokensPerStep: 100, maxTokensPerProtocol: 250, mode: 'strict' as const }

  it('lets an estimate equal to the limit through', () => {
    expect(decideBudget(100, 0, limits, 'exec:01-a.md').outcome).toBe('within')
  })

  it('refuses a prompt over the per-step limit in strict mode', () => {
    const decision = decideBudget(101, 0, limits, 'exec:01-a.md')
    expect(decision).toMatchObject({
      outcome: 'refuse',
      breaches: [{ scope: 'step', limit: 100, tokens: 101 }],
    })
  })

  it('refuses when the protocol total would pass its cumulative limit', () => {
    const decision = decideBudget(90, 200, limits, 'qa:01-a.md')
    expect(decision).toMatchObject({
      outcome: 'refuse',
      breaches: [{ scope: 'protocol', limit: 250, tokens: 290 }],
    })
  })

  it('only warns in warn mode and checks nothing in off mode', () => {
    expect(decideBudget(500, 500, { ...limits, mode: 'warn' }, 'x').outcome).toBe('warn')
    expect(decideBudget(500, 500, { ...limits, mode: 'off' }, 'x').outcome).toBe('within')
  })

  it('has nothing to enforce without limits', () => {
    expect(
      decideBudget(
        1e9,
        1e9,
        { maxTokensPerStep: undefined, maxTokensPerProtocol: undefined, mode: 'strict' },
        'x',
      ),
    ).toEqual({ outcome: 'within' })
  })
})
