import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENTRY = fileURLToPath(new URL('../../src/faces/cli/main.ts', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the real `tasksgodzilla` executable (from source) with an explicit environment. */
export const runCli = (args: string[], env: Record<string, string>, cwd = ROOT): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })

export interface CliProcess {
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves once stdout matches `pattern` (rejects after `timeoutMs`). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): void
}

/** Starts the real executable and leaves it running (for `watch` and `--follow`). */
export const spawnCli = (args: string[], env: Record<string, string>, cwd = ROOT): CliProcess => {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    waiters.forEach((wake) => wake())
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stdout)) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(stdout)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`stdout never matched ${pattern}:\n${stdout}\nstderr:\n${stderr}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
  }
}
