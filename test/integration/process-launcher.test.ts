import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { launch, type LaunchOptions } from '../../src/adapters/git/process-launcher.js'

const run = promisify(execFile)
const options = (overrides: Partial<LaunchOptions> = {}): LaunchOptions => ({
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  signal: new AbortController().signal,
  timeoutMs: 10_000,
  maxBuffer: 1024 * 1024,
  ...overrides,
})
const sh = (script: string, overrides: Partial<LaunchOptions> = {}) =>
  launch('/bin/sh', ['-c', script], options(overrides))

describe('process launcher', () => {
  it('starts commands from its helper, not from this process, and answers as execFile does', async () => {
    const parent = await sh('echo $PPID; echo oops >&2')
    expect(parent.error).toBeNull()
    const helperPid = Number(parent.stdout.trim())
    expect(helperPid).not.toBe(process.pid)
    expect(parent.stderr).toBe('oops\n')
    // One helper serves every command.
    expect(Number((await sh('echo $PPID')).stdout.trim())).toBe(helperPid)
    const failed = await sh('echo partial; exit 3')
    expect(failed.error).toMatchObject({ code: 3, killed: false })
    expect(failed.stdout).toBe('partial\n')
    const missing = await launch('no-such-command-here', [], options())
    expect(missing.error).toMatchObject({ code: 'ENOENT' })
  })

  it("gives a command only the environment it was given: the helper has none of the server's", async () => {
    const seen = await launch('/usr/bin/env', [], options({ env: { ONLY: 'this' } }))
    expect(seen.stdout).toBe('ONLY=this\n')
    const helper = Number((await sh('echo $PPID')).stdout.trim())
    const environ = readFileSync(`/proc/${helper}/environ`, 'utf8').split('\0').filter(Boolean)
    // Only what Node itself sets up for the IPC channel.
    expect(environ.filter((entry) => !entry.startsWith('NODE_CHANNEL_'))).toEqual([])
  })

  it('stops a command at its time limit and when its signal aborts', async () => {
    const slow = await sh('sleep 5', { timeoutMs: 200 })
    expect(slow.error).toMatchObject({ killed: true })
    const controller = new AbortController()
    const started = Date.now()
    const aborted = sh('sleep 5', { signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    expect((await aborted).error).toMatchObject({ name: 'AbortError' })
    expect(Date.now() - started).toBeLessThan(4_000)
    expect((await sh('echo after', { signal: AbortSignal.abort() })).error).toMatchObject({
      name: 'AbortError',
    })
  })

  it('fails the commands of a helper that dies, and the next command gets a new helper', async () => {
    const helper = Number((await sh('echo $PPID')).stdout.trim())
    const inFlight = sh('sleep 5')
    await new Promise((resolve) => setTimeout(resolve, 100))
    process.kill(helper, 'SIGKILL')
    const lost = await inFlight
    expect(lost.error?.message).toMatch(/process launcher went away/)
    const next = await sh('echo $PPID')
    expect(next.error).toBeNull()
    expect(Number(next.stdout.trim())).not.toBe(helper)
  })

  it('never keeps a process alive once its commands are done', async () => {
    const launcher = fileURLToPath(new URL('../../src/adapters/git/process-launcher.ts', import.meta.url))
    const script = `import { launch } from ${JSON.stringify(launcher)}
const r = await launch('/bin/sh', ['-c', 'echo done'], { env: {}, signal: new AbortController().signal, timeoutMs: 5000, maxBuffer: 65536 })
console.log(r.stdout.trim())`
    const started = Date.now()
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 15_000,
    })
    expect(stdout.trim()).toBe('done')
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
