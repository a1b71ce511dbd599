import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { isAgentSessionId } from '../../domain/agent-session.js'
import type { JsonValue } from '../../domain/json.js'
import { modelNameProblem, refuseModelIssue } from '../../domain/model-name.js'
import type { AgentEngine, EngineRequest, EngineResult, TokenUsage } from '../../app/engine.port.js'
import { findExecutable, runAgentProcess, type AgentProcessOutcome } from './agent.process.js'
import { buildChildEnv, type Env } from './child-env.js'

/** Per-call files an engine may ask its CLI to write. */
export interface ScratchFiles {
  readonly lastMessage: string
  readonly result: string
  readonly usage: string
}

export interface CliInvocation {
  readonly args: readonly string[]
  /** Variables set for this call (on top of the scrubbed inherited ones). */
  readonly env?: Readonly<Record<string, string>>
}

/** What an adapter reads out of a finished process. */
export interface Interpretation {
  readonly outputText: string
  readonly structured?: JsonValue | null
  readonly usage: TokenUsage | null
  readonly costUsd: number | null
}

/** The CLI-specific part of an engine: its argv and how to read its output. */
export interface CliAdapter {
  readonly id: string
  readonly displayName: string
  readonly binary: string
  readonly defaultModel: string | null
  /** Parent variables this CLI needs (its own credentials and config locations). */
  readonly passEnv: readonly string[]
  invocation(request: EngineRequest, files: ScratchFiles): CliInvocation
  interpret(outcome: AgentProcessOutcome, files: ScratchFiles): Interpretation
  /** Present when the CLI can keep and resume conversations (see CliSessions). */
  readonly sessions?: CliSessions
}

/** How a CLI names its conversation and says it has none by an id. */
export interface CliSessions {
  /** The session id a stdout line announces, if it does. */
  idIn(line: string): string | undefined
  /** Whether a finished process's output says the session asked to resume does not exist. */
  isMissing(outcome: AgentProcessOutcome): boolean
  /** The CLI takes the id we propose for a new session, so it is known before the process starts. */
  readonly takesProposedId: boolean
}

export interface CliEngineOptions {
  /** The environment agent variables are taken from (default: this process's). */
  readonly parentEnv?: Env
  /** More parent variables to pass to every agent (operator's choice; secrets still never pass). */
  readonly extraPassEnv?: readonly string[]
  readonly killGraceMs?: number
}

/** Wraps a CliAdapter into an AgentEngine: scratch files, scrubbed env, process supervision. */
export const createCliEngine = (adapter: CliAdapter, options: CliEngineOptions = {}): AgentEngine => {
  const parentEnv = options.parentEnv ?? process.env
  return {
    id: adapter.id,
    displayName: adapter.displayName,
    binary: adapter.binary,
    defaultModel: adapter.defaultModel,
    resumesSessions: adapter.sessions !== undefined,
    async isAvailable() {
      try {
        findExecutable(adapter.binary, parentEnv.PATH ?? '', process.cwd())
        return true
      } catch {
        return false
      }
    },
    async run(request) {
      refuseOptionLikeModel(request.model)
      const files = scratchFiles(request, adapter.id)
      if (request.session?.kind === 'start' && adapter.sessions?.takesProposedId)
        await request.onSessionId?.(request.session.id)
      try {
        const invocation = adapter.invocation(request, files)
        const env = buildChildEnv(
          parentEnv,
          [...adapter.passEnv, ...(options.extraPassEnv ?? [])],
          invocation.env,
        )
        const outcome = await runAgentProcess({
          command: adapter.binary,
          args: invocation.args,
          cwd: request.workingDir,
          stdin: request.prompt,
          env,
          timeoutMs: request.timeoutMs,
          ...(request.stallMs !== undefined ? { stallMs: request.stallMs } : {}),
          signal: request.signal,
          logPath: request.logPath,
          onLine: sessionWatch(adapter, request),
          killGraceMs: options.killGraceMs,
        })
        const missing = request.session?.kind === 'resume' && adapter.sessions?.isMissing(outcome) === true
        return {
          ...toResult(outcome, adapter.interpret(outcome, files)),
          ...(missing ? { sessionMissing: true } : {}),
        }
      } finally {
        for (const path of Object.values(files)) rmSync(path, { force: true })
      }
    },
  }
}

/**
 * The request's line sink, also reporting the session id the first time a line announces one.
 * Only for requests that keep a session: a planning or QA call's id is of no use to anyone.
 */
const sessionWatch = (adapter: CliAdapter, request: EngineRequest): EngineRequest['onLine'] => {
  const { sessions } = adapter
  const report = request.onSessionId
  if (!sessions || sessions.takesProposedId || !report || !request.session) return request.onLine
  let reported = false
  return (stream, line) => {
    request.onLine?.(stream, line)
    if (reported || stream !== 'stdout') return
    const id = sessions.idIn(line)
    if (id === undefined) return
    reported = true
    void report(id)
  }
}

/**
 * Defence in depth behind the API's check: models also come from the environment, planning output
 * and CodeMachine workspaces, and whatever reaches argv after `--model` must not parse as a flag.
 */
const refuseOptionLikeModel = (model: string | null | undefined): void => {
  const problem = model ? modelNameProblem(model) : undefined
  refuseModelIssue(problem === undefined ? undefined : { field: 'model', problem })
}

const toResult = (outcome: AgentProcessOutcome, read: Interpretation): EngineResult => ({
  success: outcome.exitCode === 0,
  exitCode: outcome.exitCode,
  outputText: read.outputText,
  structured: read.structured !== undefined ? read.structured : parseJsonOrNull(read.outputText),
  usage: read.usage,
  costUsd: read.costUsd,
  stderrTail: outcome.stderrTail,
  durationMs: outcome.durationMs,
})

const scratchFiles = (request: EngineRequest, id: string): ScratchFiles => {
  mkdirSync(request.scratchDir, { recursive: true })
  const stem = join(request.scratchDir, `${id}-${request.phase}-${randomBytes(4).toString('hex')}`)
  return {
    lastMessage: `${stem}.last-message.txt`,
    result: `${stem}.result.json`,
    usage: `${stem}.usage.json`,
  }
}

/**
 * A session id as it may stand on a command line: a UUID, nothing else. Ids come back from agents'
 * output and the database, so anything else is refused before it reaches argv.
 */
export const sessionIdArg = (id: string): string => {
  if (isAgentSessionId(id)) return id
  throw new Error(`Refusing a session id that is not a UUID: ${JSON.stringify(String(id).slice(0, 80))}`)
}

/** The file's text, or undefined when the CLI did not write it. */
export const readOptional = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

export const parseJsonOrNull = (text: string | undefined): JsonValue | null => {
  if (text === undefined || text.trim() === '') return null
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return null
  }
}

/** Parses each stdout line that is a JSON object (event streams); other lines are skipped. */
export const jsonEvents = (lines: readonly string[]): Array<Record<string, unknown>> =>
  lines.flatMap((line) => {
    const value = line.startsWith('{') ? parseJsonOrNull(line) : null
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? [value] : []
  })

export const num = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0

export const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
