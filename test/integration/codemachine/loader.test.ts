import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createContainedFiles } from '../../../src/adapters/files/contained-files.adapter.js'
import { loadCodeMachineWorkspace } from '../../../src/app/codemachine/load-workspace.js'
import { isAppError } from '../../../src/domain/app-error.js'
import { packageAssets } from '../../support/package-assets.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/codemachine/', import.meta.url))
/** `UPDATE_GOLDEN=1 npx vitest run …` rewrites the expected files (review the diff). */
const UPDATE = process.env.UPDATE_GOLDEN === '1'

const golden = (name: string, file: string, actual: string) => {
  const path = join(FIXTURES, name, file)
  if (UPDATE) writeFileSync(path, actual)
  expect(actual).toBe(readFileSync(path, 'utf8'))
}

/** The loader's result with the fixture folder written as `<workspace>`, so goldens are portable. */
const portable = (name: string): string => {
  const workspace = join(FIXTURES, name)
  const loaded = loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, workspace)
  const shown = {
    root: loaded.root,
    template_config: loaded.payload,
    protocol_spec: loaded.spec,
    errors: loaded.errors,
    unattached_modules: loaded.unattachedModules,
  }
  return `${JSON.stringify(shown, null, 2).split(workspace).join('<workspace>')}\n`
}

const configErrorOf = (name: string): string => {
  try {
    loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, join(FIXTURES, name))
  } catch (error) {
    if (isAppError(error) && error.code === 'ORC_CODEMACHINE_CONFIG_INVALID') return `${error.message}\n`
    throw error
  }
  throw new Error(`${name} loaded without a config error`)
}

describe('CodeMachine workspace loader (golden files)', () => {
  for (const name of ['esm-camel', 'cjs-snake', 'placeholders', 'missing-prompt'])
    it(`maps the ${name} workspace to the expected template_config and spec`, () => {
      golden(name, 'expected.json', portable(name))
    })

  for (const name of [
    'malformed',
    'function-call',
    'identifier',
    'member-expression',
    'template-substitution',
    'extra-statement',
    'bad-template',
    'bad-types',
    'missing-main',
    'escape-relative',
    'escape-absolute',
    'escape-placeholder',
  ])
    it(`refuses the ${name} workspace with a ConfigError naming file, line and column`, () => {
      golden(name, 'expected-error.txt', configErrorOf(name))
    })
})

describe('CodeMachine loader rules', () => {
  const load = (name: string) =>
    loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, join(FIXTURES, name))

  it('reads export default and module.exports (through a const) alike, camelCase or snake_case', () => {
    expect(load('esm-camel').spec.steps.map((step) => step.name)).toEqual([
      '00-plan',
      '01-build',
      '02-review',
    ])
    const snake = load('cjs-snake')
    expect(snake.spec.steps.map((step) => [step.name, step.engine_id, step.prompt_ref])).toEqual([
      ['00-setup', 'command', 'agents/setup.md'],
      ['01-code', null, 'agents/code.md'],
    ])
    expect(snake.root).toBe(join(FIXTURES, 'cjs-snake'))
  })

  it('keeps 0 as 0, reads a string behavior, and bounds a loop without max_iterations', () => {
    const policies = load('cjs-snake').payload.modules as Array<Record<string, unknown>>
    expect(policies[0]).toMatchObject({
      module_id: 'retry',
      behavior: 'loop',
      step_back: 0,
      max_iterations: 0,
    })
    expect(policies[0]?.skip_steps).toEqual([2])
    expect(policies[2]).toMatchObject({ module_id: 'code-loop', behavior: 'loop', max_iterations: 3 })
  })

  it('attaches a trigger to the agent naming it, never to the agent it triggers', () => {
    const steps = load('esm-camel').spec.steps
    const policiesOf = (name: string) =>
      (steps.find((step) => step.name === name)?.policies ?? []).map((policy) => policy.module_id)
    expect(policiesOf('01-build')).toEqual(['check-loop', 'notify'])
    expect(policiesOf('02-review')).toEqual([])
    expect(load('cjs-snake').unattachedModules).toEqual(['orphan-trigger'])
  })

  it('expands placeholders before validating prompt paths, without prefix matches', () => {
    const loaded = load('placeholders')
    expect(loaded.errors).toEqual([])
    expect(loaded.spec.steps[2]?.prompt_ref).toBe('prompts/${VERSION}/$VERSIONX.md')
  })

  it('turns a missing workspace into ORC_WORKSPACE_NOT_FOUND', () => {
    expect(() =>
      loadCodeMachineWorkspace(
        { files: createContainedFiles(), assets: packageAssets },
        join(FIXTURES, 'no-such-workspace'),
      ),
    ).toThrow(expect.objectContaining({ code: 'ORC_WORKSPACE_NOT_FOUND' }))
  })

  it.each([
    ['.codemachine/prompts/plan.md', 'config/main.agents.js', 'prompt path of agent plan links outside'],
    ['.codemachine/config/main.agents.js', 'config/main.agents.js', 'links outside the workspace'],
  ])('refuses %s as a link to a file outside the workspace', (link, file, problem) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgz-cm-link-'))
    try {
      const workspace = join(dir, 'ws')
      cpSync(join(FIXTURES, 'esm-camel'), workspace, { recursive: true })
      const outside = join(dir, 'outside.js')
      writeFileSync(outside, readFileSync(join(workspace, link)))
      rmSync(join(workspace, link))
      symlinkSync(outside, join(workspace, link))
      expect(() =>
        loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, workspace),
      ).toThrow(
        expect.objectContaining({
          code: 'ORC_CODEMACHINE_CONFIG_INVALID',
          details: expect.objectContaining({ file: `.codemachine/${file}` }),
        }),
      )
      expect(() =>
        loadCodeMachineWorkspace({ files: createContainedFiles(), assets: packageAssets }, workspace),
      ).toThrow(problem)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
