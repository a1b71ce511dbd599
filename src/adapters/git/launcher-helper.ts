/**
 * The process launcher's helper (process-launcher.ts starts it): a bare Node process that runs
 * the commands it is sent with `execFile` and answers each one. It imports nothing of ours, so it
 * stays small; it has no environment of its own, each command brings its own.
 */
import { execFile, type ExecFileException } from 'node:child_process'

/** A command to run, as `execFile` takes it. */
export interface LaunchRequest {
  readonly id: number
  readonly file: string
  readonly args: readonly string[]
  readonly cwd?: string
  readonly env: NodeJS.ProcessEnv
  readonly timeoutMs: number
  readonly maxBuffer: number
}

/** Stop the command with this id (it answers as aborted). */
export interface StopRequest {
  readonly stop: number
}

/** Answered at once with `{ pong: true }`: the launcher's check that this process still listens. */
export interface PingRequest {
  readonly ping: true
}

/** How a command ended: `error` as `execFile` gave it (exit code or errno in `code`), or null. */
export interface LaunchReply {
  readonly id: number
  readonly stdout: string
  readonly stderr: string
  readonly error: {
    readonly message: string
    readonly code?: string | number | null
    readonly killed: boolean
    /** The signal that ended the command, if one did. */
    readonly signal: string | null
    readonly aborted: boolean
  } | null
}

const running = new Map<number, AbortController>()

/** To the launcher, if it is still there: a parent gone mid-answer is not this process's failure. */
const send = (message: LaunchReply | { readonly pong: true } | { readonly ready: true }): void => {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined)
}

const reply = (message: LaunchReply): void => send(message)

const failure = (error: ExecFileException | Error): LaunchReply['error'] => {
  const code = (error as ExecFileException).code
  return {
    message: error.message,
    code: typeof code === 'number' || typeof code === 'string' ? code : null,
    killed: (error as ExecFileException).killed === true,
    signal: (error as ExecFileException).signal ?? null,
    aborted: error.name === 'AbortError',
  }
}

const start = (request: LaunchRequest): void => {
  const controller = new AbortController()
  running.set(request.id, controller)
  const options = {
    cwd: request.cwd,
    env: request.env,
    timeout: request.timeoutMs,
    maxBuffer: request.maxBuffer,
    encoding: 'utf8' as const,
    signal: controller.signal,
  }
  try {
    execFile(request.file, [...request.args], options, (error, stdout, stderr) => {
      running.delete(request.id)
      reply({ id: request.id, stdout, stderr, error: error && failure(error) })
    })
  } catch (error) {
    // Refused before any process started (a NUL byte in an argument, say): this command fails, alone.
    running.delete(request.id)
    reply({ id: request.id, stdout: '', stderr: '', error: failure(error as Error) })
  }
}

/** Stops every running command, then ends: their parent is going or gone. */
const stopAllAndExit = (code: number): void => {
  for (const controller of running.values()) controller.abort()
  process.exit(code)
}

process.on('message', (message: LaunchRequest | StopRequest | PingRequest) => {
  if ('ping' in message) send({ pong: true })
  else if ('stop' in message) running.get(message.stop)?.abort()
  else start(message)
})
process.on('disconnect', () => stopAllAndExit(0))
process.on('SIGTERM', () => stopAllAndExit(0))
process.on('SIGINT', () => stopAllAndExit(0))
process.on('uncaughtException', (error) => {
  process.stderr.write(`tasksgodzilla process launcher: ${error.stack ?? error.message}\n`)
  stopAllAndExit(1)
})
// From here on it reads commands: before this, none it was sent has run.
send({ ready: true })
