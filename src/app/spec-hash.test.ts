import { describe, expect, it } from 'vitest'
import { parseSpecJson, specHash, specHashOfText, toPlainJson } from './spec-hash.js'

describe('specHash (reference §2.3 test vectors)', () => {
  it('hashes {"steps":[]} to 4430e7786edc', () => {
    expect(specHashOfText('{"steps":[]}')).toBe('4430e7786edc')
    expect(specHash({ steps: [] })).toBe('4430e7786edc')
  })

  it('hashes a spec with a float and a non-ASCII string to 1dc9beeaed27 when parsed losslessly', () => {
    expect(specHashOfText('{"steps":[{"id":"a","x":1.0,"u":"é"}]}')).toBe('1dc9beeaed27')
  })

  it('hashes the one-step codex spec to d660e609534d', () => {
    const text =
      '{"steps":[{"id":"00-step","name":"00-step.md","engine_id":"codex","prompt_ref":"00-step.md","qa":{"policy":"skip"}}]}'
    expect(specHashOfText(text)).toBe('d660e609534d')
    expect(specHash(JSON.parse(text))).toBe('d660e609534d')
  })

  it('returns null for an empty or absent spec', () => {
    expect(specHash({})).toBeNull()
    expect(specHash(null)).toBeNull()
    expect(specHash(undefined)).toBeNull()
    expect(specHashOfText('{}')).toBeNull()
  })

  it('loses 1.0 after a plain JSON.parse, as docs/decisions.md records', () => {
    expect(specHash(JSON.parse('{"steps":[{"id":"a","x":1.0,"u":"é"}]}'))).not.toBe('1dc9beeaed27')
  })

  it('turns lossless numbers back into plain ones for storage', () => {
    expect(toPlainJson(parseSpecJson('{"a":[1.5,2.0,3]}'))).toEqual({ a: [1.5, 2, 3] })
  })
})
