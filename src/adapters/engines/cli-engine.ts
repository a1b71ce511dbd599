import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
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
          onLine: request.onLine,
          killGraceMs: options.killGraceMs,
        })
        return toResult(outcome, adapter.interpret(outcome, files))
      } finally {
        for (const path of Object.values(files)) rmSync(path, { force: true })
      }
    },
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
