import { describe, expect, it } from 'vitest'
import { packageAssets } from '../../test/support/package-assets.js'
import { parsePlanningOutput, SCHEMA_FILES, validateProtocolSpec } from './spec-validation.js'

const validStep = {
  id: '01-a',
  name: '01-a.md',
  engine_id: 'codex',
  prompt_ref: '01-a.md',
  qa: { policy: 'full' },
}

describe('validateProtocolSpec', () => {
  it('accepts a minimal spec and keeps unknown keys', () => {
    expect(
      validateProtocolSpec(packageAssets, { steps: [{ ...validStep, extra: 1 }], custom: true }),
    ).toEqual([])
  })

  it('reports schema errors with a schema:<path> prefix', () => {
    expect(validateProtocolSpec(packageAssets, { steps: [] })).toEqual([
      'schema:steps: must NOT have fewer than 1 items',
    ])
    const errors = validateProtocolSpec(packageAssets, {
      steps: [{ id: 'a', qa: { policy: 'sometimes' }, outputs: { other: 'x' } }],
    })
    expect(errors).toEqual(
      expect.arrayContaining([
        "schema:steps/0: must have required property 'engine_id'",
        "schema:steps/0: must have required property 'prompt_ref'",
        'schema:steps/0/outputs: must NOT have additional properties (other)',
        'schema:steps/0/qa/policy: must be equal to one of the allowed values',
      ]),
    )
    expect(validateProtocolSpec(packageAssets, {})).toEqual(['protocol spec missing or malformed'])
  })

  it('checks engines and paths when told about them', () => {
    const roots = { protocolRoot: '/w/.protocols/p', workspace: '/w' }
    const errors = validateProtocolSpec(
      packageAssets,
      { steps: [{ ...validStep, engine_id: 'nope', outputs: { protocol: '../../x' } }] },
      { engineIds: ['codex'], roots, probe: { exists: () => false } },
    )
    expect(errors).toEqual([
      '01-a.md: engine "nope" is not registered',
      '01-a.md: prompt_ref missing: /w/.protocols/p/01-a.md',
      expect.stringMatching(/^01-a\.md: outputs\.protocol path "\.\.\/\.\.\/x" is refused/),
    ])
  })

  it('exposes the schema files for engines, as absolute paths in the package', () => {
    const path = packageAssets.absolutePath(SCHEMA_FILES.protocolPlanning)
    expect(path).toMatch(/^\/.*schemas\/protocol-planning\.schema\.json$/)
    expect(JSON.parse(packageAssets.readText(SCHEMA_FILES.protocolPlanning))).toHaveProperty('properties')
  })
})

describe('parsePlanningOutput', () => {
  const good = {
    plan_md: '# Plan',
    context_md: 'ctx',
    log_md: '',
    step_files: [
      { filename: '00-setup.md', content: 'setup' },
      { filename: '01-build.md', content: 'build' },
    ],
  }

  it('accepts plain or fenced JSON', () => {
    expect(parsePlanningOutput(packageAssets, JSON.stringify(good))).toEqual({ ok: good })
    expect(parsePlanningOutput(packageAssets, '```json\n' + JSON.stringify(good) + '\n```')).toEqual({
      ok: good,
    })
  })

  it('explains what is wrong so the agent can retry', () => {
    expect(parsePlanningOutput(packageAssets, 'Here is the plan!')).toEqual({
      errors: [expect.stringMatching(/^the answer is not JSON/)],
    })
    expect(parsePlanningOutput(packageAssets, JSON.stringify({ ...good, extra: 1 }))).toEqual({
      errors: ['schema:(root): must NOT have additional properties (extra)'],
    })
    const unsafe = {
      ...good,
      step_files: [
        { filename: '../00-setup.md', content: 'x' },
        { filename: '01-a.md', content: '' },
      ],
    }
    expect(parsePlanningOutput(packageAssets, JSON.stringify(unsafe))).toEqual({
      errors: [
        expect.stringContaining('"../00-setup.md" is refused'),
        'step_files: a 00-setup.md step is required',
      ],
    })
  })
})
