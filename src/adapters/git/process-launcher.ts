import { execFile, spawn, type ChildProcess } from 'node:child_process'

/**
 * Short commands (git) started by a small helper process instead of by this one.
 *
 * Starting a process forks its parent, and a fork costs in proportion to the parent's memory,
 * on the event loop: measured on the 2-core VM (2026-12-07), `/bin/true` from a 52 MB Node
 * process took 1.8 ms wall and 1.1 ms of the parent's CPU, from 157 MB 5.5 / 2.9 ms, from 368 MB
 * 18.5 / 9.0 ms. A server holds 200+ MB, and a step starts four git processes. The helper is a
 * bare Node process started once (its fork paid once), with no environment of its own: each
 * command brings its own, exactly as it would to `execFile`. If the helper cannot be reached the
 * command runs here, as before.
 */

export interface LaunchOptions {
  readonly cwd?: string
  readonly env: NodeJS.ProcessEnv
  readonly signal: AbortSignal
  readonly timeoutMs: number
  readonly maxBuffer: number
}

/** What `execFile` hands its callback: the error carries `code` (exit code or errno) and `killed`. */
export interface LaunchResult {
  readonly error: (Error & { code?: unknown; killed?: boolean }) | null
  readonly stdout: string
  readonly stderr: string
}

interface Request {
  readonly id: number
  readonly file: string
  readonly args: readonly string[]
  readonly cwd?: string
  readonly env: NodeJS.ProcessEnv
  readonly timeoutMs: number
  readonly maxBuffer: number
}

interface Reply {
  readonly id: number
  readonly stdout: string
  readonly stderr: string
  readonly error: { message: string; code?: unknown; killed: boolean; aborted: boolean } | null
}

/**
 * The helper's whole program, run with `node --input-type=module -e`: it exists as text because
 * it must run as plain JavaScript from the sources (tests, tsx) and from the build alike. It
 * starts each command with `execFile` and the options it was sent, stops one when told, and
 * stops them all and exits when this process goes (its IPC channel closes).
 */
const HELPER_SOURCE = `
import { execFile } from 'node:child_process'
const running = new Map()
process.on('message', (m) => {
  if (m.stop !== undefined) return running.get(m.stop)?.abort()
  const controller = new AbortController()
  running.set(m.id, controller)
  const options = { cwd: m.cwd, env: m.env, timeout: m.timeoutMs, maxBuffer: m.maxBuffer, encoding: 'utf8', signal: controller.signal }
  execFile(m.file, m.args, options, (error, stdout, stderr) => {
    running.delete(m.id)
    const failure = error && { message: error.message, code: error.code, killed: error.killed === true, aborted: error.name === 'AbortError' }
    process.send({ id: m.id, stdout: String(stdout ?? ''), stderr: String(stderr ?? ''), error: failure })
  })
})
process.on('disconnect', () => {
  for (const controller of running.values()) controller.abort()
  process.exit(0)
})
`

interface Pending {
  /** The helper it was sent to. */
  readonly via: ChildProcess
  readonly file: string
  readonly args: readonly string[]
  readonly options: LaunchOptions
  readonly resolve: (result: LaunchResult) => void
}

let helper: ChildProcess | undefined
let helperBroken = false
let nextId = 1
const pending = new Map<number, Pending>()
let started = 0

/** Commands started through `launch` so far in this process (for benches and metrics). */
export const launchedCommands = (): number => started

/** Runs `file args` to its end, as `execFile` with these options would, from the helper when it can. */
export const launch = (
  file: string,
  args: readonly string[],
  options: LaunchOptions,
): Promise<LaunchResult> => {
  started += 1
  if (options.signal.aborted) return Promise.resolve(abortedResult())
  const channel = helperChannel()
  return channel ? viaHelper(channel, { file, args, options }) : here(file, args, options)
}

const here = (file: string, args: readonly string[], options: LaunchOptions): Promise<LaunchResult> =>
  new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        cwd: options.cwd,
        env: options.env,
        signal: options.signal,
        timeout: options.timeoutMs,
        maxBuffer: options.maxBuffer,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }),
    )
  })

const viaHelper = (channel: ChildProcess, command: Omit<Pending, 'resolve' | 'via'>): Promise<LaunchResult> =>
  new Promise<LaunchResult>((resolve) => {
    const { file, args, options } = command
    const id = nextId++
    const stop = () => channel.send({ stop: id }, () => undefined)
    options.signal.addEventListener('abort', stop, { once: true })
    pending.set(id, {
      ...command,
      via: channel,
      resolve: (result) => {
        options.signal.removeEventListener('abort', stop)
        resolve(result)
      },
    })
    holdOpen(channel)
    const { cwd, env, timeoutMs, maxBuffer } = options
    const request: Request = { id, file, args, cwd, env, timeoutMs, maxBuffer }
    // Not sent, so not started: it runs here instead.
    channel.send(request, (error) => error && runHereInstead(id))
  })

const take = (id: number): Pending | undefined => {
  const waiting = pending.get(id)
  pending.delete(id)
  if (waiting && ![...pending.values()].some((command) => command.via === waiting.via)) letGo(waiting.via)
  return waiting
}

const settle = (id: number, result: LaunchResult): void => take(id)?.resolve(result)

const runHereInstead = (id: number): void => {
  const waiting = take(id)
  if (waiting) void here(waiting.file, waiting.args, waiting.options).then(waiting.resolve)
}

const fromReply = (reply: Reply): LaunchResult => {
  if (!reply.error) return { error: null, stdout: reply.stdout, stderr: reply.stderr }
  const error = Object.assign(new Error(reply.error.message), {
    code: reply.error.code,
    killed: reply.error.killed,
  })
  if (reply.error.aborted) error.name = 'AbortError'
  return { error, stdout: reply.stdout, stderr: reply.stderr }
}

const abortedResult = (): LaunchResult => ({
  error: Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
  stdout: '',
  stderr: '',
})

/** The helper went away while a command was out: whether it ran is unknown, so it failed. */
const lostResult = (cause: string): LaunchResult => ({
  error: new Error(`the process launcher went away (${cause}) before the command's end`),
  stdout: '',
  stderr: '',
})

/** The running helper, started on first use; undefined (run here) when it cannot be started. */
const helperChannel = (): ChildProcess | undefined => {
  if (helper?.connected) return helper
  if (helperBroken) return undefined
  helper = startHelper()
  return helper
}

const startHelper = (): ChildProcess => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HELPER_SOURCE], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {},
  })
  let spawned = false
  const sentTo = () => [...pending].filter(([, command]) => command.via === child).map(([id]) => id)
  child.on('spawn', () => (spawned = true))
  child.on('message', (reply: Reply) => settle(reply.id, fromReply(reply)))
  child.on('error', (error) => {
    if (helper === child) helper = undefined
    if (spawned) {
      for (const id of sentTo()) settle(id, lostResult(error.message))
      return
    }
    // Not started at all (no node binary, no process slots): nothing it was sent ran, so all runs here.
    helperBroken = true
    for (const id of sentTo()) runHereInstead(id)
  })
  child.on('exit', (code, signal) => {
    if (helper === child) helper = undefined
    for (const id of sentTo()) settle(id, lostResult(signal ?? `exit ${String(code)}`))
  })
  letGo(child)
  return child
}

/** While a command is out, the helper keeps this process alive; idle, it never does. */
const holdOpen = (child: ChildProcess): void => {
  child.ref()
  child.channel?.ref()
}

const letGo = (child: ChildProcess): void => {
  child.unref()
  child.channel?.unref()
}
