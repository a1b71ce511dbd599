import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LaunchReply, LaunchRequest } from './launcher-helper.js'

/**
 * Short commands (git) started by a small helper process instead of by this one.
 *
 * Starting a process forks its parent, and a fork costs in proportion to the parent's memory,
 * on the event loop: measured on the 2-core VM (2026-12-07, bench/spawn-cost.ts), `/bin/true`
 * from a 52 MB Node process took 1.8 ms wall and 1.1 ms of the parent's CPU, from 157 MB 5.5 /
 * 2.9 ms, from 368 MB 18.5 / 9.0 ms. A server holds 200+ MB, and a step starts four git
 * processes. The helper (launcher-helper.ts) is a bare Node process started once, with no
 * environment of its own: each command brings its own, exactly as it would to `execFile`.
 * Where no helper can run, commands run here, as before.
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
  readonly error: (Error & { code?: unknown; killed?: boolean; signal?: string | null }) | null
  readonly stdout: string
  readonly stderr: string
}

/** The error `code` of a command whose helper went away or stopped answering: it may or may not have run. */
export const LAUNCHER_LOST = 'ELAUNCHER_LOST'

/** How long past a command's own time limit (or its abort) its answer may take before it is given up on. */
const ANSWER_GRACE_MS = 5_000
/** How long a helper has to answer a ping before it is taken for stuck and replaced. */
const PING_WAIT_MS = 1_000
/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface Pending {
  /** The helper it was sent to. */
  readonly via: ChildProcess
  readonly file: string
  readonly args: readonly string[]
  readonly options: LaunchOptions
  readonly resolve: (result: LaunchResult) => void
}

let helper: ChildProcess | undefined
/** No helper can run here (it cannot start, or closes before it is ready): commands run here. */
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
    try {
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
    } catch (error) {
      resolve({ error: error as Error, stdout: '', stderr: '' })
    }
  })

const viaHelper = (channel: ChildProcess, command: Omit<Pending, 'resolve' | 'via'>): Promise<LaunchResult> =>
  new Promise<LaunchResult>((resolve) => {
    const { file, args, options } = command
    const id = nextId++
    const deadline = answerDeadline(channel, id, options.timeoutMs)
    const stop = () => {
      channel.send({ stop: id }, () => undefined)
      deadline.shorten()
    }
    options.signal.addEventListener('abort', stop, { once: true })
    pending.set(id, {
      ...command,
      via: channel,
      resolve: (result) => {
        deadline.clear()
        options.signal.removeEventListener('abort', stop)
        resolve(result)
      },
    })
    holdOpen(channel)
    const { cwd, env, timeoutMs, maxBuffer } = options
    const request: LaunchRequest = { id, file, args, cwd, env, timeoutMs, maxBuffer }
    // Not sent, so not started: it runs here instead.
    channel.send(request, (error) => error && runHereInstead(id))
  })

/**
 * A command whose answer has not come by its time limit + ANSWER_GRACE_MS (or that long after its
 * abort) fails as lost, so a caller is never held forever; its helper is then pinged and replaced
 * only when it does not answer (stopped, swamped), since one command can also outlive its limit
 * alone (git's pipes held open by a process it started) while the helper serves the others.
 * A limit of 0 (none) has no deadline, as `execFile` has none.
 */
const answerDeadline = (channel: ChildProcess, id: number, timeoutMs: number) => {
  let timer: NodeJS.Timeout | undefined
  const arm = (ms: number) => {
    clearTimeout(timer)
    timer = setTimeout(
      () => {
        channel.send({ stop: id }, () => undefined)
        replaceIfSilent(channel)
        settle(id, lostResult('no answer within its time limit'))
      },
      Math.min(ms, MAX_TIMER_MS),
    )
  }
  if (timeoutMs > 0) arm(timeoutMs + ANSWER_GRACE_MS)
  return {
    shorten: () => arm(ANSWER_GRACE_MS),
    clear: () => clearTimeout(timer),
  }
}

/**
 * A helper that let a command pass its deadline gets no new commands (the next one starts another
 * helper); it keeps those it has if it still answers, and ends when they are done.
 */
const replaceIfSilent = (channel: ChildProcess): void => {
  retired.add(channel)
  forget(channel)
  const waited = setTimeout(() => abandon(channel), PING_WAIT_MS)
  pongWaiters.set(channel, [...(pongWaiters.get(channel) ?? []), () => clearTimeout(waited)])
  channel.send({ ping: true }, (error) => error && abandon(channel))
}

/** Helpers that take no new commands and end once their last one is answered. */
const retired = new WeakSet<ChildProcess>()

/** Per helper, the replacements its next pong calls off. */
const pongWaiters = new WeakMap<ChildProcess, Array<() => void>>()

const ponged = (channel: ChildProcess): void => {
  for (const callOff of pongWaiters.get(channel) ?? []) callOff()
  pongWaiters.delete(channel)
}

const take = (id: number): Pending | undefined => {
  const waiting = pending.get(id)
  pending.delete(id)
  if (waiting && ![...pending.values()].some((command) => command.via === waiting.via)) idle(waiting.via)
  return waiting
}

/** A helper with no command out: it no longer keeps this process alive, and a retired one ends. */
const idle = (channel: ChildProcess): void => {
  letGo(channel)
  if (retired.has(channel) && channel.connected) channel.disconnect()
}

const settle = (id: number, result: LaunchResult): void => take(id)?.resolve(result)

const runHereInstead = (id: number): void => {
  const waiting = take(id)
  if (waiting) void here(waiting.file, waiting.args, waiting.options).then(waiting.resolve)
}

const fromReply = (reply: LaunchReply): LaunchResult => {
  if (!reply.error) return { error: null, stdout: reply.stdout, stderr: reply.stderr }
  const error = Object.assign(new Error(reply.error.message), {
    code: reply.error.code,
    killed: reply.error.killed,
    signal: reply.error.signal,
  })
  if (reply.error.aborted) error.name = 'AbortError'
  return { error, stdout: reply.stdout, stderr: reply.stderr }
}

const isReady = (message: unknown): boolean => (message as { ready?: unknown } | null)?.ready === true
const isPong = (message: unknown): boolean => (message as { pong?: unknown } | null)?.pong === true

const isReply = (message: unknown): message is LaunchReply => {
  const reply = message as Partial<LaunchReply> | null
  return typeof reply?.id === 'number' && typeof reply.stdout === 'string' && typeof reply.stderr === 'string'
}

const abortedResult = (): LaunchResult => ({
  error: Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }),
  stdout: '',
  stderr: '',
})

/** The helper went away, or stopped answering, while a command was out: whether it ran is unknown. */
const lostResult = (cause: string): LaunchResult => ({
  error: Object.assign(new Error(`the process launcher went away (${cause}) before the command's end`), {
    code: LAUNCHER_LOST,
  }),
  stdout: '',
  stderr: '',
})

/** New commands no longer go to `child` (the next starts another helper). */
const forget = (child: ChildProcess): void => {
  if (helper === child) helper = undefined
}

/** The running helper, started on first use; undefined (run here) when none can run. */
const helperChannel = (): ChildProcess | undefined => {
  if (helper?.connected) return helper
  if (helperBroken) return undefined
  helper = startHelper()
  return helper
}

/**
 * The helper's entry: the built `.js` beside this module, or from the sources (tests, tsx) the
 * `.ts` through tsx's loader.
 */
const helperArgs = (): string[] => {
  const built = fileURLToPath(new URL('./launcher-helper.js', import.meta.url))
  if (existsSync(built)) return [built]
  return [
    '--import',
    import.meta.resolve('tsx'),
    fileURLToPath(new URL('./launcher-helper.ts', import.meta.url)),
  ]
}

const startHelper = (): ChildProcess => {
  const child = spawn(process.execPath, helperArgs(), {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Strings travel as they are, not JSON-escaped (git output can be large or binary).
    serialization: 'advanced',
    env: {},
    // Its own process group: replacing it stops the commands it started too.
    detached: true,
  })
  let spawned = false
  let ready = false
  const sentTo = () => [...pending].filter(([, command]) => command.via === child).map(([id]) => id)
  child.on('spawn', () => (spawned = true))
  child.on('message', (message: unknown) => {
    if (isReady(message)) ready = true
    else if (isPong(message)) ponged(child)
    else if (isReply(message)) settle(message.id, fromReply(message))
  })
  child.on('error', (error) => {
    forget(child)
    if (spawned) {
      child.kill('SIGKILL')
      for (const id of sentTo()) settle(id, lostResult(error.message))
      return
    }
    // Not started at all (no node binary, no process slots): nothing it was sent ran, so all runs here.
    helperBroken = true
    for (const id of sentTo()) runHereInstead(id)
  })
  // After the channel closes every answer sent before the end has been read.
  child.on('disconnect', () => {
    forget(child)
    if (ready) {
      for (const id of sentTo()) settle(id, lostResult('its channel closed'))
      return
    }
    // It never got as far as reading a command (it cannot load here): they run here, as do later ones.
    helperBroken = true
    for (const id of sentTo()) runHereInstead(id)
  })
  letGo(child)
  return child
}

/**
 * A helper that stopped answering is replaced, not waited on by every later command: it is told
 * to stop its commands and end (and woken, in case it was stopped), and killed if it has not
 * ended a second later. Its other commands fail when its channel closes.
 */
const abandon = (child: ChildProcess): void => {
  forget(child)
  signalGroup(child, 'SIGTERM')
  signalGroup(child, 'SIGCONT')
  setTimeout(() => signalGroup(child, 'SIGKILL'), 1_000).unref()
}

/** The helper and every command it started (its own process group), so none is left running. */
const signalGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
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
