import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SCRIPT = fileURLToPath(new URL('./queue-process.harness.ts', import.meta.url))

export interface QueueProcess {
  readonly child: ChildProcess
  readonly output: () => string
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>
}

/** Starts a real queue process (see queue-process.harness.ts) and waits until it consumes. */
export const spawnQueueProcess = async (
  role: 'worker' | 'embedded',
  env: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<QueueProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      ...extra,
      HARNESS_ROLE: role,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const deadline = Date.now() + 20_000
  while (!output.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`queue process did not start:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { child, output: () => output, exited }
}
