import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Starting from source (tsx) takes long on a loaded 2-core machine. */
const START_TIMEOUT_MS = 180_000
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENTRY = fileURLToPath(new URL('../../src/faces/cli/main.ts', import.meta.url))

/** One `tasksgodzilla` process as an operator runs it (from source), its output in a log file. */
export interface ServerProcess {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
}

const launch = (name: string, args: string[], env: Record<string, string>, logDir: string): ServerProcess => {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' })
  child.stdout?.pipe(log, { end: false })
  child.stderr?.pipe(log, { end: false })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { name, pid: child.pid ?? 0, child, exited }
}

const waitUntil = async (
  what: string,
  ready: () => Promise<boolean>,
  proc: ServerProcess,
  timeoutMs: number,
) => {
  const deadline = Date.now() + timeoutMs
  while (!(await ready().catch(() => false))) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited before ${what} (see its log)`)
    if (Date.now() > deadline) {
      proc.child.kill('SIGKILL')
      throw new Error(`${proc.name}: no ${what} after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** `tasksgodzilla serve` on a port; resolves once `/health/ready` answers 200. */
export const startApi = async (
  name: string,
  port: number,
  env: Record<string, string>,
  logDir: string,
): Promise<ServerProcess> => {
  const proc = launch(name, ['serve', '--host', '127.0.0.1', '--port', String(port)], env, logDir)
  const ready = async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok
  await waitUntil('/health/ready', ready, proc, START_TIMEOUT_MS)
  return proc
}

/** `tasksgodzilla worker` with its /metrics port; resolves once that answers (the worker consumes). */
export const startWorker = async (
  name: string,
  metricsPort: number,
  concurrency: number,
  env: Record<string, string>,
  logDir: string,
): Promise<ServerProcess> => {
  const args = ['worker', '--concurrency', String(concurrency), '--metrics-port', String(metricsPort)]
  const proc = launch(name, args, env, logDir)
  const ready = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).ok
  await waitUntil('/metrics', ready, proc, START_TIMEOUT_MS)
  return proc
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export const stopProcess = async (proc: ServerProcess, graceMs = 30_000): Promise<void> => {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return
  proc.child.kill('SIGTERM')
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs)
  await proc.exited
  clearTimeout(timer)
}
