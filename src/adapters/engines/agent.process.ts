import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { accessSync, constants, createWriteStream, mkdirSync } from 'node:fs'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { AppError } from '../../domain/app-error.js'
import type { EngineLogSink } from '../../app/engine.port.js'
import { RecentLines, watchSilence } from './silence-watch.js'

/** Time between SIGTERM and SIGKILL for the agent's process group. */
export const KILL_GRACE_MS = 1_000
const MAX_CAPTURED_STDOUT_CHARS = 16 * 1024 * 1024
const STDERR_TAIL_LINES = 20
/** Output lines of a stalled agent quoted in its error (and so in the `engine_stalled` event). */
const STALL_TAIL_LINES = 20

export interface AgentProcessRequest {
  readonly command: string
  readonly args: readonly string[]
  readonly cwd: string
  readonly stdin: string
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  /** The agent is stopped when it prints nothing for this long (undefined: never). */
  readonly stallMs?: number
  readonly signal: AbortSignal
  readonly logPath: string
  readonly onLine?: EngineLogSink
  readonly killGraceMs?: number
}

export interface AgentProcessOutcome {
  readonly exitCode: number | null
  readonly stdoutLines: readonly string[]
  readonly stderrTail: string
  readonly durationMs: number
}

/**
 * Runs an agent: argv only (no shell), its own process group, prompt on stdin, every output line
 * appended to the log file as it arrives. On abort or timeout the whole group gets SIGTERM, then
 * SIGKILL after the grace period; stragglers left when the agent exits are killed the same way.
 * An agent silent on both pipes for `stallMs` is stopped the same way (ORC_ENGINE_STALLED, with its
 * last output lines). Throws ORC_ENGINE_UNAVAILABLE, ORC_ENGINE_TIMEOUT, ORC_ENGINE_STALLED or
 * ORC_ENGINE_CANCELLED; returns otherwise.
 */
export const runAgentProcess = async (request: AgentProcessRequest): Promise<AgentProcessOutcome> => {
  const executable = findExecutable(request.command, request.env.PATH ?? '', request.cwd)
  if (request.signal.aborted) throw cancelled(request.command)
  mkdirSync(dirname(request.logPath), { recursive: true })
  const log = createWriteStream(request.logPath, { flags: 'a' })
  log.write(`[tasksgodzilla] $ ${[request.command, ...request.args].map(quoteForLog).join(' ')}\n`)
  try {
    return await supervise(executable, request, log)
  } finally {
    await new Promise<void>((done) => log.end(done))
  }
}

const supervise = (
  executable: string,
  request: AgentProcessRequest,
  log: NodeJS.WritableStream,
): Promise<AgentProcessOutcome> =>
  new Promise((resolvePromise, reject) => {
    const started = Date.now()
    const child = spawn(executable, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let ending: 'timeout' | 'cancelled' | 'stalled' | undefined
    const grace = request.killGraceMs ?? KILL_GRACE_MS
    const stop = (why: 'timeout' | 'cancelled' | 'stalled') => {
      ending ??= why
      killGroup(child.pid, grace)
    }
    const timer = setTimeout(() => stop('timeout'), request.timeoutMs)
    const silence = watchSilence(request.stallMs, () => stop('stalled'))
    const onAbort = () => stop('cancelled')
    request.signal.addEventListener('abort', onAbort, { once: true })
    const output = captureLines(child, request, log)
    child.stdout.on('data', silence.touch)
    child.stderr.on('data', silence.touch)
    child.stdin.on('error', () => undefined) // an agent that ignores stdin closes it early (EPIPE)
    child.stdin.end(request.stdin)
    child.on('exit', () => killGroup(child.pid, grace))
    const settle = () => {
      clearTimeout(timer)
      silence.stop()
      request.signal.removeEventListener('abort', onAbort)
    }
    child.on('error', (error) => {
      settle()
      reject(spawnError(request.command, error))
    })
    child.on('close', (code) => {
      settle()
      if (ending === 'timeout') return reject(timedOut(request.command, request.timeoutMs))
      if (ending === 'stalled') return reject(stalled(request, output.recent()))
      if (ending === 'cancelled') return reject(cancelled(request.command))
      resolvePromise({ exitCode: code, ...output.collected(), durationMs: Date.now() - started })
    })
  })

/** Streams both pipes line by line into the log and the sink, keeping stdout and a stderr tail. */
const captureLines = (
  child: ChildProcessWithoutNullStreams,
  request: AgentProcessRequest,
  log: NodeJS.WritableStream,
) => {
  const stdoutLines: string[] = []
  const stderrLines: string[] = []
  const recent = new RecentLines(STALL_TAIL_LINES)
  let captured = 0
  const sink = (stream: 'stdout' | 'stderr', line: string) => {
    log.write(stream === 'stderr' ? `[stderr] ${line}\n` : `${line}\n`)
    recent.push(stream === 'stderr' ? `[stderr] ${line}` : line)
    request.onLine?.(stream, line)
    if (stream === 'stderr') {
      if (stderrLines.push(line) > STDERR_TAIL_LINES) stderrLines.shift()
    } else if ((captured += line.length) <= MAX_CAPTURED_STDOUT_CHARS) stdoutLines.push(line)
  }
  createInterface({ input: child.stdout }).on('line', (line) => sink('stdout', line))
  createInterface({ input: child.stderr }).on('line', (line) => sink('stderr', line))
  return {
    collected: () => ({ stdoutLines, stderrTail: stderrLines.join('\n') }),
    recent: () => recent.lines,
  }
}

/** SIGTERM to the whole group now, SIGKILL after `graceMs`; a group already gone is fine. */
export const killGroup = (pid: number | undefined, graceMs: number): void => {
  if (pid === undefined) return
  if (!signalGroup(pid, 'SIGTERM')) return
  setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs).unref()
}

const signalGroup = (pid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/** The executable's path: as given when it contains `/`, else the first match on PATH. */
export const findExecutable = (command: string, path: string, cwd: string): string => {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // try the next one
    }
  }
  throw unavailable(command)
}

const unavailable = (command: string): AppError =>
  new AppError(
    'ORC_ENGINE_UNAVAILABLE',
    `Engine binary ${JSON.stringify(command)} was not found or is not executable`,
    {
      binary: command,
    },
  )

const spawnError = (command: string, error: Error): AppError =>
  (error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'EACCES'
    ? unavailable(command)
    : new AppError('ORC_ENGINE_EXITED', `Engine ${JSON.stringify(command)} could not start: ${error.message}`)

const timedOut = (command: string, timeoutMs: number): AppError =>
  new AppError(
    'ORC_ENGINE_TIMEOUT',
    `Engine ${JSON.stringify(command)} ran past its ${Math.round(timeoutMs / 1000)} s limit and was stopped`,
    {
      binary: command,
      timeoutMs,
    },
  )

const stalled = (request: AgentProcessRequest, lastLines: readonly string[]): AppError =>
  new AppError(
    'ORC_ENGINE_STALLED',
    `Engine ${JSON.stringify(request.command)} printed nothing for ${(request.stallMs ?? 0) / 1000} s and was stopped`,
    { binary: request.command, stallMs: request.stallMs ?? 0, lastLines: [...lastLines] },
  )

const cancelled = (command: string): AppError =>
  new AppError('ORC_ENGINE_CANCELLED', `Engine ${JSON.stringify(command)} was cancelled`, { binary: command })

const quoteForLog = (arg: string): string =>
  arg.length > 200
    ? `'${arg.slice(0, 60)}…(${arg.length} chars)'`
    : /^[\w@%+=:,./-]+$/.test(arg)
      ? arg
      : `'${arg.replace(/'/g, "'\\''")}'`
