import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCodexEngine } from '../../src/adapters/engines/codex.engine.js'
import { createProject, createProtocol, openTestApi, type TestApi } from '../support/api.js'
import { DIALECTS, unavailable } from '../support/databases.js'
import { removeDir, tempDir } from '../support/git-repos.js'

// Issue 15 #9: a model name is the argument after `--model`; one that starts with `-` or holds
// whitespace/control characters would be read by the agent CLI as more options.
const BAD_MODELS = ['--dangerously-bypass-approvals-and-sandbox', 'gpt-5 --yolo', 'gpt\n5', '\u0001x', '']

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`model names at the API (${dialect})`, () => {
    let api: TestApi
    beforeAll(async () => {
      api = await openTestApi(dialect)
    })
    afterAll(async () => api?.close())

    it('refuses option-like project default_models on create and update, quoting the field', async () => {
      for (const model of BAD_MODELS) {
        const created = await api.request('POST', '/projects', {
          body: { name: `m-${Math.random()}`, git_url: '/srv/repos/demo', default_models: { exec: model } },
        })
        expect(created.statusCode, JSON.stringify(model)).toBe(422)
        expect(created.json().detail[0].loc).toEqual(['body', 'default_models.exec'])
      }
      const project = await createProject(api, { default_models: { exec: 'openai/gpt-5.1-codex:high' } })
      const patched = await api.request('PATCH', `/projects/${project.id}`, {
        body: { default_models: { planning: '-m' } },
      })
      expect(patched.statusCode).toBe(422)
      expect(patched.json().detail[0].msg).toContain('"-m"')
    })

    it('refuses option-like models in a protocol spec and on a step', async () => {
      const project = await createProject(api)
      const spec = (model: string) => ({
        protocol_spec: { steps: [{ id: 's', engine_id: null, prompt_ref: 'a.md', qa: { model } }] },
      })
      const refused = await api.request('POST', `/projects/${project.id}/protocols`, {
        body: { protocol_name: '0001-bad-model', template_config: spec('--config=x') },
      })
      expect(refused.statusCode).toBe(422)
      expect(refused.json().detail[0].loc).toEqual(['body', 'template_config.protocol_spec.steps.0.qa.model'])
      const run = await createProtocol(api, project.id, { template_config: spec('claude-sonnet-4.5') })
      const step = await api.request('POST', `/protocols/${run.id}/steps`, {
        body: { step_index: 0, step_name: '00-x', step_type: 'work', model: 'a b' },
      })
      expect(step.statusCode).toBe(422)
    })
  })
}

describe('model names at the engine adapter', () => {
  let dir: string
  beforeAll(() => {
    dir = tempDir('tgz-model-')
  })
  afterAll(() => removeDir(dir))

  it('refuses to spawn the agent with an option-like model, whoever chose it', async () => {
    const marker = join(dir, 'spawned')
    const binary = join(dir, 'fake-codex')
    writeFileSync(binary, `#!/bin/sh\ntouch '${marker}'\n`)
    chmodSync(binary, 0o755)
    const engine = createCodexEngine({ binary })
    const call = engine.run({
      phase: 'execute',
      workingDir: dir,
      prompt: 'p',
      model: '--dangerously-bypass-approvals-and-sandbox',
      sandbox: 'read-only',
      timeoutMs: 10_000,
      signal: new AbortController().signal,
      logPath: join(dir, 'log.txt'),
      scratchDir: dir,
    })
    await expect(call).rejects.toMatchObject({ code: 'ORC_VALIDATION_FAILED' })
    expect(existsSync(marker)).toBe(false)
  })
})
