import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClaudeEngine } from '../../src/adapters/engines/claude.engine.js'
import { createCodexEngine } from '../../src/adapters/engines/codex.engine.js'
import { createOpencodeEngine } from '../../src/adapters/engines/opencode.engine.js'
import type { EngineRequest } from '../../src/app/engine.port.js'
import { removeDir, tempDir } from '../support/git-repos.js'

// Stand-ins that print what each real CLI prints in its JSON mode, to check usage parsing.
let root: string

const script = (name: string, body: string): string => {
  const path = join(root, name)
  writeFileSync(path, `#!/usr/bin/env node\nconst args = process.argv.slice(2)\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

const request = (): EngineRequest => ({
  phase: 'qa',
  workingDir: root,
  prompt: 'check it',
  model: 'm',
  sandbox: 'read-only',
  timeoutMs: 20_000,
  signal: new AbortController().signal,
  logPath: join(root, 'step.log'),
  scratchDir: join(root, 'scratch'),
})

beforeAll(() => {
  root = tempDir('tgz-output-')
})
afterAll(() => removeDir(root))

describe('engine output parsing', () => {
  it('codex: answer from --output-last-message, usage summed over turn.completed events', async () => {
    const binary = script(
      'codex',
      `const out = args[args.indexOf('--output-last-message') + 1]
require('node:fs').writeFileSync(out, 'VERDICT: PASS')
console.log(JSON.stringify({ type: 'thread.started', thread_id: 't' }))
console.log(JSON.stringify({ type: 'item.completed', item: { type: 'agent_message', text: 'draft' } }))
console.log(JSON.stringify({ type: 'turn.completed', usage: { input_tokens: 100, cached_input_tokens: 40, output_tokens: 7 } }))
console.log(JSON.stringify({ type: 'turn.completed', usage: { input_tokens: 10, output_tokens: 3 } }))`,
    )
    const result = await createCodexEngine({ binary }).run(request())
    expect(result).toMatchObject({
      success: true,
      outputText: 'VERDICT: PASS',
      usage: { prompt: 110, completion: 10 },
      costUsd: null,
    })
  })

  it('claude: answer, usage and cost from the result event', async () => {
    const binary = script(
      'claude',
      `console.log(JSON.stringify({ type: 'system', subtype: 'init' }))
console.log(JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: '{"a":1}', total_cost_usd: 0.05,
  usage: { input_tokens: 5, cache_creation_input_tokens: 10, cache_read_input_tokens: 20, output_tokens: 8 } }))`,
    )
    const result = await createClaudeEngine({ binary }).run(request())
    expect(result).toMatchObject({
      outputText: '{"a":1}',
      structured: { a: 1 },
      usage: { prompt: 35, completion: 8 },
      costUsd: 0.05,
    })
  })

  it('opencode: last text part, usage and cost from step_finish events', async () => {
    const binary = script(
      'opencode',
      `console.log(JSON.stringify({ type: 'text', part: { text: 'first' } }))
console.log(JSON.stringify({ type: 'text', part: { text: 'VERDICT: FAIL' } }))
console.log(JSON.stringify({ type: 'step_finish', part: { cost: 0.01, tokens: { input: 50, output: 5, reasoning: 2, cache: { read: 10, write: 0 } } } }))`,
    )
    const result = await createOpencodeEngine({ binary }).run(request())
    expect(result).toMatchObject({
      outputText: 'VERDICT: FAIL',
      usage: { prompt: 60, completion: 7 },
      costUsd: 0.01,
    })
  })
})
