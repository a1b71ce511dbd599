import { describe, expect, it } from 'vitest'
import { engineChainIssue, selectEngineChain, templateEnginesIssue, toEngineChain } from './engine-chain.js'

const REGISTERED = ['codex', 'claude', 'opencode']

describe('engine chains', () => {
  it('accepts 1 to 5 entries naming registered engines, with or without a model', () => {
    expect(
      engineChainIssue([{ engine: 'codex', model: 'gpt-5' }, { engine: 'claude' }], 'engines', REGISTERED),
    ).toBeUndefined()
    expect(engineChainIssue(null, 'engines', REGISTERED)).toBeUndefined()
  })

  it('names the bad entry: unregistered engine, option-like model, unknown key, wrong size', () => {
    expect(engineChainIssue([{ engine: 'codex' }, { engine: 'x' }], 'engines', REGISTERED)).toMatchObject({
      field: 'engines.1',
      problem: expect.stringContaining(
        'engines[1]: engine "x" is not a registered engine (codex, claude, opencode)',
      ),
    })
    expect(
      engineChainIssue([{ engine: 'codex', model: '--yolo' }], 'engines', REGISTERED)?.problem,
    ).toContain('engines[0]: Model name "--yolo" must not start with "-"')
    expect(engineChainIssue([{ engine: 'codex', effort: 'high' }], 'engines', REGISTERED)?.problem).toContain(
      'unknown key "effort"',
    )
    expect(engineChainIssue([], 'engines', REGISTERED)?.problem).toContain('1 to 5')
    expect(engineChainIssue(Array(6).fill({ engine: 'codex' }), 'engines', REGISTERED)?.problem).toContain(
      '1 to 5',
    )
  })

  it("checks the spec's protocol-level and step-level chains", () => {
    const config = {
      protocol_spec: { engines: [{ engine: 'codex' }], steps: [{ engines: [{ engine: 'nope' }] }] },
    }
    expect(templateEnginesIssue(config, REGISTERED)?.field).toBe(
      'template_config.protocol_spec.steps.0.engines.0',
    )
  })

  it('takes the step spec over the step run over the protocol spec over the project', () => {
    const chain = (engine: string) => [{ engine, model: null }]
    const levels = {
      stepSpec: chain('a'),
      stepRun: chain('b'),
      protocolSpec: chain('c'),
      project: chain('d'),
    }
    expect(selectEngineChain(levels)).toEqual(chain('a'))
    expect(selectEngineChain({ ...levels, stepSpec: null })).toEqual(chain('b'))
    expect(selectEngineChain({ ...levels, stepSpec: undefined, stepRun: null })).toEqual(chain('c'))
    expect(selectEngineChain({ project: chain('d') })).toEqual(chain('d'))
    expect(selectEngineChain({})).toBeUndefined()
  })

  it('reads a stored chain back, a missing model as null', () => {
    expect(toEngineChain([{ engine: 'codex' }])).toEqual([{ engine: 'codex', model: null }])
    expect(toEngineChain('codex')).toBeUndefined()
  })
})
