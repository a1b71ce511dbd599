import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../domain/json.js'
import { specHash } from '../spec-hash.js'
import { summarizeSpec } from './spec-summary.js'

const runWith = (spec: JsonObject | null) => ({
  templateConfig: spec === null ? null : { protocol_spec: spec, spec_meta: { status: 'valid' } },
})

describe('summarizeSpec', () => {
  it('reports the hash of the spec the run holds now, however often it is asked', () => {
    const first = { steps: [{ id: 'a', name: '01-a' }] }
    const edited = {
      steps: [
        { id: 'a', name: '01-a' },
        { id: 'b', name: '02-b' },
      ],
    }
    expect(summarizeSpec(runWith(first)).specHash).toBe(specHash(first))
    expect(summarizeSpec(runWith(first)).specHash).toBe(specHash(first))
    expect(summarizeSpec(runWith(edited)).specHash).toBe(specHash(edited))
    expect(summarizeSpec(runWith(edited)).specHash).not.toBe(specHash(first))
  })

  it('gives equal specs written with their keys in another order the same hash', () => {
    const a = { steps: [{ id: 'a', name: '01-a' }], version: 2 }
    const b = { version: 2, steps: [{ name: '01-a', id: 'a' }] }
    expect(summarizeSpec(runWith(b)).specHash).toBe(summarizeSpec(runWith(a)).specHash)
  })

  it('has no hash for a run without a spec or with an empty one', () => {
    expect(summarizeSpec(runWith(null)).specHash).toBeNull()
    expect(summarizeSpec(runWith({})).specHash).toBeNull()
  })
})
