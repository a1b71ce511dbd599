import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCommandEngine } from '../../src/adapters/engines/command.engine.js'
import { createBuiltInRegistry, createEngineRegistry } from '../../src/adapters/engines/engine.registry.js'
import type { EngineRequest } from '../../src/app/engine.port.js'
import { removeDir, tempDir } from '../support/git-repos.js'
import { waitForExit, waitForPids } from '../support/processes.js'

const FAKE_AGENT = fileURLToPath(new URL('../fixtures/agents/fake-agent.mjs', import.meta.url))
let root: string

beforeAll(() => {
  root = tempDir('tgz-engine-')
})
afterAll(() => removeDir(root))

const fake = (
  args: string[],
  parentEnv: Record<string, string | undefined> = process.env,
  passEnv: string[] = [],
) => createCommandEngine({ id: 'fake', command: FAKE_AGENT, args, passEnv }, { parentEnv })

const request = (overrides: Partial<EngineRequest> = {}): EngineRequest => ({
  phase: 'execute',
  workingDir: root,
  prompt: 'Implement step 01\nmore lines',
  model: 'fake-model',
  sandbox: 'workspace-write',
  timeoutMs: 20_000,
  signal: new AbortController().signal,
  logPath: join(root, 'logs', `${Math.random().toString(16).slice(2)}.log`),
  scratchDir: join(root, 'scratch'),
  ...overrides,
})

describe('command engine', () => {
  it('returns the last message, the JSON result, usage and cost, and logs every line', async () => {
    const lines: string[] = []
    const req = request({ onLine: (stream, line) => lines.push(`${stream}:${line}`) })
    const result = await fake(['--lines=3', '--result={"ok":true}', '--usage=120,30,0.02']).run(req)
    expect(result).toMatchObject({
      success: true,
      exitCode: 0,
      outputText: 'echo: Implement step 01',
      structured: { ok: true },
      usage: { prompt: 120, completion: 30 },
      costUsd: 0.02,
    })
    const log = readFileSync(req.logPath, 'utf8')
    expect(log).toContain('line 2\n')
    expect(log).toContain('[stderr] fake-agent phase=execute model=fake-model')
    expect(lines).toContain('stdout:line 0')
  })

  it('takes stdout as the answer when no last message is written, and reports a failing exit', async () => {
    const result = await fake(['--stdout-only', '--answer=VERDICT: FAIL', '--exit=3']).run(request())
    expect(result).toMatchObject({ success: false, exitCode: 3, outputText: 'VERDICT: FAIL', usage: null })
  })

  it('names a missing binary in ORC_ENGINE_UNAVAILABLE', async () => {
    const engine = createCommandEngine({ id: 'ghost', command: 'tasksgodzilla-no-such-agent' })
    expect(await engine.isAvailable()).toBe(false)
    await expect(engine.run(request())).rejects.toMatchObject({
      code: 'ORC_ENGINE_UNAVAILABLE',
      details: { binary: 'tasksgodzilla-no-such-agent' },
    })
  })
})

describe('process supervision', () => {
  it('kills the whole process group within 2 s of a cancel', async () => {
    const pidFile = join(root, 'cancel.pids')
    const controller = new AbortController()
    const running = fake([`--grandchild=${pidFile}`, '--sleep=60000']).run(
      request({ signal: controller.signal }),
    )
    const pids = await waitForPids(pidFile, 2)
    const cancelledAt = Date.now()
    controller.abort()
    await expect(running).rejects.toMatchObject({ code: 'ORC_ENGINE_CANCELLED' })
    expect(await waitForExit(pids, 2_000 - (Date.now() - cancelledAt))).toEqual([])
  })

  it('stops an agent that passes its wall-clock limit', async () => {
    const pidFile = join(root, 'timeout.pids')
    const running = fake([`--grandchild=${pidFile}`, '--sleep=60000']).run(request({ timeoutMs: 700 }))
    await expect(running).rejects.toMatchObject({ code: 'ORC_ENGINE_TIMEOUT' })
    expect(await waitForExit(await waitForPids(pidFile, 2), 2_000)).toEqual([])
  })

  it('stops an agent that prints nothing for the stall period, quoting its last lines', async () => {
    const pidFile = join(root, 'stall.pids')
    const startedAt = Date.now()
    const running = fake([`--grandchild=${pidFile}`, '--lines=3', '--sleep=60000']).run(
      request({ stallMs: 500 }),
    )
    await expect(running).rejects.toMatchObject({
      code: 'ORC_ENGINE_STALLED',
      message: expect.stringContaining('printed nothing for 0.5 s'),
      details: {
        stallMs: 500,
        lastLines: ['line 0', 'line 1', 'line 2', '[stderr] fake-agent phase=execute model=fake-model'],
      },
    })
    expect(Date.now() - startedAt).toBeLessThan(5_000)
    expect(await waitForExit(await waitForPids(pidFile, 2), 2_000)).toEqual([])
  })

  it('leaves an agent that keeps printing alone however long it runs', async () => {
    const result = await fake(['--sleep=1500', '--tick=100']).run(request({ stallMs: 500 }))
    expect(result.success).toBe(true)
  })

  it('kills stragglers an agent leaves behind when it exits', async () => {
    const pidFile = join(root, 'straggler.pids')
    const result = await fake([`--grandchild=${pidFile}`]).run(request())
    expect(result.success).toBe(true)
    const [, grandchild] = await waitForPids(pidFile, 2)
    expect(await waitForExit([grandchild ?? 0], 2_000)).toEqual([])
  })

  it('hands the agent no orchestrator secret, even when asked to', async () => {
    const dump = join(root, 'env.json')
    const parentEnv = {
      PATH: process.env.PATH,
      HOME: '/tmp',
      TASKSGODZILLA_API_TOKEN: 'api-secret',
      TASKSGODZILLA_WEBHOOK_TOKEN: 'hook-secret',
      TASKSGODZILLA_DB_URL: 'postgresql://u:p@db/x',
      TASKSGODZILLA_REDIS_URL: 'redis://r',
      GITHUB_TOKEN: 'gh-secret',
      GH_TOKEN: 'gh2-secret',
      GITLAB_TOKEN: 'gl-secret',
      DATABASE_URL: 'postgres://x',
      AWS_SECRET_ACCESS_KEY: 'aws',
      MY_AGENT_KEY: 'agent-key',
    }
    await fake([`--dump-env=${dump}`], parentEnv, [
      'GITHUB_TOKEN',
      'TASKSGODZILLA_API_TOKEN',
      'MY_AGENT_KEY',
    ]).run(request())
    const env = JSON.parse(readFileSync(dump, 'utf8')) as Record<string, string>
    const values = Object.values(env).join('\n')
    for (const secret of [
      'api-secret',
      'hook-secret',
      'u:p@db',
      'redis://r',
      'gh-secret',
      'gh2-secret',
      'gl-secret',
      'postgres://x',
      'aws',
    ])
      expect(values).not.toContain(secret)
    expect(env.MY_AGENT_KEY).toBe('agent-key')
    expect(env.TASKSGODZILLA_AGENT_PHASE).toBe('execute')
    expect(
      Object.keys(env).filter(
        (key) => key.startsWith('TASKSGODZILLA_') && !key.startsWith('TASKSGODZILLA_AGENT_'),
      ),
    ).toEqual([])
  })
})

describe('engine registry', () => {
  it('holds engines by id with a default and names unknown ids', () => {
    const registry = createBuiltInRegistry({ commands: [{ id: 'demo', command: FAKE_AGENT }] })
    expect(registry.ids()).toEqual(['codex', 'claude', 'opencode', 'demo'])
    expect(registry.defaultId).toBe('codex')
    expect(registry.get('demo').binary).toBe(FAKE_AGENT)
    expect(() => registry.get('nope')).toThrow(expect.objectContaining({ code: 'ORC_ENGINE_NOT_REGISTERED' }))
    expect(() => createEngineRegistry([fake([]), fake([])])).toThrow(/already registered/)
  })
})
