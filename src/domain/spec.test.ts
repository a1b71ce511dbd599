import { describe, expect, it } from 'vitest'
import { selectEngineAndModel } from './engine-selection.js'
import { expandPlaceholders, resolveStepPaths } from './spec-paths.js'
import type { ProtocolSpec, StepSpec } from './spec.js'
import { buildSpecFromStepFiles, findStepSpec, inferStepType, qaPolicyOf } from './spec.js'

const step = (overrides: Partial<StepSpec> = {}): StepSpec => ({
  id: '01-a',
  name: '01-a.md',
  engine_id: null,
  prompt_ref: '01-a.md',
  qa: { policy: 'full' },
  ...overrides,
})

describe('spec building and lookup', () => {
  it('builds one step per numbered file, sorted, with relative paths and a separate output', () => {
    const spec = buildSpecFromStepFiles(['02-b.md', 'plan.md', '00-setup.md', '01-qa-check.md', 'log.md'], {
      qaPolicy: 'full',
      engineId: 'codex',
    })
    expect(spec.steps.map((s) => [s.name, s.step_type, s.order, s.prompt_ref, s.outputs?.protocol])).toEqual([
      ['00-setup.md', 'setup', 0, '00-setup.md', 'outputs/00-setup.md'],
      ['01-qa-check.md', 'qa', 1, '01-qa-check.md', 'outputs/01-qa-check.md'],
      ['02-b.md', 'work', 2, '02-b.md', 'outputs/02-b.md'],
    ])
  })

  it('finds a step by name, then by id, and defaults its QA policy to full', () => {
    const spec: ProtocolSpec = { steps: [step(), step({ id: 'x', name: 'y', qa: { policy: null } })] }
    expect(findStepSpec(spec, '01-a.md')?.id).toBe('01-a')
    expect(findStepSpec(spec, 'x')?.name).toBe('y')
    expect(qaPolicyOf(findStepSpec(spec, 'y'))).toBe('full')
    expect(inferStepType('00-anything')).toBe('setup')
  })
})

describe('placeholders and paths', () => {
  const roots = { protocolRoot: '/w/.protocols/0001-x', workspace: '/w' }
  const files = new Set(['/w/.protocols/0001-x/01-a.md', '/w/prompts/qa.md', '/w/docs'])
  const probe = { exists: (path: string) => files.has(path) }

  it('expands every placeholder form without prefix bugs', () => {
    const placeholders = { NAME: 'docs', N: 3 }
    expect(expandPlaceholders('NAME/{{NAME}}/${NAME}/<NAME>/$NAME/$NAMEX/$N', placeholders)).toBe(
      'docs/docs/docs/docs/docs/$NAMEX/3',
    )
  })

  it('resolves prompt and outputs relative to the protocol root', () => {
    const resolved = resolveStepPaths(
      step({ outputs: { aux: { mirror: 'docs/m.md' } } }),
      undefined,
      roots,
      probe,
    )
    expect(resolved).toEqual({
      promptPath: '/w/.protocols/0001-x/01-a.md',
      outputs: { protocol: '/w/.protocols/0001-x/outputs/01-a.md', aux: { mirror: '/w/docs/m.md' } },
    })
  })

  it('reports a missing prompt and paths escaping the roots', () => {
    const resolved = resolveStepPaths(
      step({ prompt_ref: 'missing.md', outputs: { protocol: '../../etc/x', aux: { a: '/etc/passwd' } } }),
      undefined,
      roots,
      probe,
    )
    expect('errors' in resolved && resolved.errors).toEqual([
      'prompt_ref missing: /w/.protocols/0001-x/missing.md',
      expect.stringContaining('outputs.protocol path "../../etc/x" is refused'),
      expect.stringContaining('outputs.aux.a path /etc/passwd lies outside'),
    ])
  })
})

describe('selectEngineAndModel', () => {
  const base = { registryDefaultEngineId: 'codex', engineDefaultModel: (id: string) => `${id}-default` }

  it('prefers the step, then the protocol, then the project, then config, then the engine default', () => {
    const protocol: ProtocolSpec = { steps: [step()], engine_id: 'claude', models: { exec: 'proto-exec' } }
    expect(
      selectEngineAndModel({
        ...base,
        phase: 'exec',
        step: step({ engine_id: 'opencode', model: 'm1' }),
        protocol,
      }),
    ).toEqual({ engineId: 'opencode', model: 'm1' })
    expect(selectEngineAndModel({ ...base, phase: 'exec', step: step(), protocol })).toEqual({
      engineId: 'claude',
      model: 'proto-exec',
    })
    expect(
      selectEngineAndModel({ ...base, phase: 'exec', projectDefaults: { exec: 'p-exec', engine: 'x' } }),
    ).toEqual({ engineId: 'x', model: 'p-exec' })
    expect(selectEngineAndModel({ ...base, phase: 'planning', configModel: 'env-plan' }).model).toBe(
      'env-plan',
    )
    expect(selectEngineAndModel({ ...base, phase: 'planning' })).toEqual({
      engineId: 'codex',
      model: 'codex-default',
    })
  })

  it('uses the QA block of the step for the qa phase', () => {
    const qaStep = step({
      engine_id: 'codex',
      model: 'exec-model',
      qa: { policy: 'full', engine_id: 'claude', model: 'qa-m' },
    })
    expect(selectEngineAndModel({ ...base, phase: 'qa', step: qaStep })).toEqual({
      engineId: 'claude',
      model: 'qa-m',
    })
    expect(
      selectEngineAndModel({ ...base, phase: 'qa', step: step(), projectDefaults: { qa: 'p-qa' } }).model,
    ).toBe('p-qa')
  })
})
