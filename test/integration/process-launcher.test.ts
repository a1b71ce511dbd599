import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitSucceeds } from '../../src/adapters/git/git.runner.js'
import { LAUNCHER_LOST, launch, type LaunchOptions } from '../../src/adapters/git/process-launcher.js'

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
/** The pid of the helper that runs commands now (a command asks its parent). */
const helperPid = async (overrides: Partial<LaunchOptions> = {}): Promise<number> => {
  const answer = await sh('echo $PPID', overrides)
  expect(answer.error).toBeNull()
  const pid = Number(answer.stdout.trim())
  expect(pid).toBeGreaterThan(1)
  expect(pid).not.toBe(process.pid)
  return pid
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
  } catch {
    return false
  }
}
const until = async (condition: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms
  while (!condition()) {
    if (Date.now() > end) throw new Error(`still not so after ${ms} ms`)
    await sleep(50)
  }
}

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
    const helper = await helperPid()
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
    const helper = await helperPid()
    const inFlight = sh('sleep 5')
    await sleep(100)
    process.kill(helper, 'SIGKILL')
    const lost = await inFlight
    expect(lost.error).toMatchObject({ code: LAUNCHER_LOST })
    expect(lost.error?.message).toMatch(/process launcher went away/)
    const next = await helperPid()
    expect(next).not.toBe(helper)
  })

  it("fails a git probe whose helper died rather than reading it as git's no", async () => {
    const bin = mkdtempSync(join(tmpdir(), 'tgz-slow-git-'))
    writeFileSync(join(bin, 'git'), '#!/bin/sh\nsleep 5\n')
    chmodSync(join(bin, 'git'), 0o755)
    const path = process.env.PATH
    process.env.PATH = `${bin}:${path ?? ''}`
    try {
      const helper = await helperPid()
      const probe = gitSucceeds(['rev-parse', '--verify', 'main'], {
        signal: new AbortController().signal,
        allowFileProtocol: false,
      })
      await sleep(100)
      process.kill(helper, 'SIGKILL')
      await expect(probe).rejects.toMatchObject({
        code: 'ORC_GIT_FAILED',
        message: expect.stringMatching(/did not finish/),
      })
    } finally {
      process.env.PATH = path
    }
  })

  it('fails one command the helper cannot start, and the others run on beside it', async () => {
    const helper = await helperPid()
    const beside = sh('sleep 0.3; echo ok')
    const refused = await launch('/bin/echo', ['a\0b'], options())
    expect(refused.error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect(await beside).toMatchObject({ error: null, stdout: 'ok\n' })
    expect(await helperPid()).toBe(helper)
  })

  it('answers commands running together each with its own output, large output whole', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => sh(`sleep 0.0${n}; echo ${n}`)))
    expect(answers.map((answer) => answer.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n', '5\n'])
    const large = await sh('yes abcdefg | head -c 4000000', { maxBuffer: 8_000_000 })
    expect(large.stdout.length).toBe(4_000_000)
    expect(large.stdout.slice(0, 16)).toBe('abcdefg\nabcdefg\n')
  })

  it('frees an aborted command within seconds even when its helper does not answer', async () => {
    const helper = await helperPid()
    process.kill(helper, 'SIGSTOP')
    try {
      const controller = new AbortController()
      const started = Date.now()
      const waiting = sh('echo never', { timeoutMs: 60_000, signal: controller.signal })
      setTimeout(() => controller.abort(), 100)
      expect((await waiting).error).toMatchObject({ code: LAUNCHER_LOST })
      expect(Date.now() - started).toBeLessThan(9_000)
      // Silent to its ping, the stopped helper is replaced and ends.
      await until(() => !isAlive(helper), 5_000)
    } finally {
      if (isAlive(helper)) process.kill(helper, 'SIGKILL')
    }
  }, 20_000)

  it('gives up on a helper that stops answering and replaces it: later commands do not wait on it', async () => {
    const helper = await helperPid()
    process.kill(helper, 'SIGSTOP')
    try {
      const started = Date.now()
      const stuck = await sh('echo never', { timeoutMs: 100 })
      expect(stuck.error).toMatchObject({ code: LAUNCHER_LOST })
      expect(Date.now() - started).toBeLessThan(9_000)
      expect(await helperPid({ timeoutMs: 2_000 })).not.toBe(helper)
      await until(() => !isAlive(helper), 5_000)
    } finally {
      if (isAlive(helper)) process.kill(helper, 'SIGKILL')
    }
  }, 15_000)

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
