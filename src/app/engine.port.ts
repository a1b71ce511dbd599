import type { JsonValue } from '../domain/json.js'

/** What an engine call is for; engines pick defaults (sandbox) from it. */
export const ENGINE_PHASES = ['plan', 'execute', 'qa'] as const
export type EnginePhase = (typeof ENGINE_PHASES)[number]

/** How much the agent may touch: planning and QA read, execution writes its worktree. */
export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const
export type SandboxMode = (typeof SANDBOX_MODES)[number]

export const defaultSandbox = (phase: EnginePhase): SandboxMode =>
  phase === 'execute' ? 'workspace-write' : 'read-only'

/** One line the agent printed, as it arrives. */
export type EngineLogSink = (stream: 'stdout' | 'stderr', line: string) => void

export interface EngineRequest {
  readonly phase: EnginePhase
  /** The worktree the agent works in (its cwd). */
  readonly workingDir: string
  /** The whole prompt, sent on stdin. */
  readonly prompt: string
  /** null: the engine's own configured model. */
  readonly model: string | null
  readonly sandbox: SandboxMode
  /** Wall-clock limit; the process group is killed when it passes. */
  readonly timeoutMs: number
  /** The process group is killed when the agent prints nothing for this long (ORC_ENGINE_STALLED). */
  readonly stallMs?: number
  /** Aborting kills the agent's whole process group. */
  readonly signal: AbortSignal
  /** Per-step log file: every stdout/stderr line is appended to it. */
  readonly logPath: string
  /** Also told about every line (live log streams). */
  readonly onLine?: EngineLogSink
  /** JSON Schema file the final answer must follow (planning). */
  readonly outputSchemaPath?: string
  /** Scratch directory for the engine's own files (last message, result); created if missing. */
  readonly scratchDir: string
  /**
   * Keep the agent's conversation so a later attempt can pick it up: start one (the id is a
   * proposal; a CLI that names its own reports that one) or resume one. Absent: nothing is kept.
   * Engines whose CLI cannot resume (`resumesSessions: false`) ignore it.
   */
  readonly session?: AgentSessionRequest
  /**
   * Told the session's id as soon as it is known, before the agent finishes (a worker may die):
   * awaited before the spawn when the CLI takes the proposed id, else when the agent announces it.
   */
  readonly onSessionId?: (id: string) => Promise<void> | void
}

export type AgentSessionRequest =
  { readonly kind: 'start'; readonly id: string } | { readonly kind: 'resume'; readonly id: string }

export interface TokenUsage {
  readonly prompt: number
  readonly completion: number
}

export interface EngineResult {
  /** The process exited with code 0. */
  readonly success: boolean
  readonly exitCode: number | null
  /** The agent's final message (last-message file when the CLI writes one, else its text output). */
  readonly outputText: string
  /** A structured answer (JSON result file, or the final message when it parses as JSON). */
  readonly structured: JsonValue | null
  /** Actual usage reported by the agent, or null when it reported none. */
  readonly usage: TokenUsage | null
  readonly costUsd: number | null
  /** The last lines of stderr, for failure messages. */
  readonly stderrTail: string
  readonly durationMs: number
  /** A resume was asked for and the CLI said it knows no such session (the call did nothing). */
  readonly sessionMissing?: boolean
}

/**
 * One agent CLI. `run` spawns it in its own process group with a scrubbed environment; it throws
 * ORC_ENGINE_UNAVAILABLE (binary missing), ORC_ENGINE_TIMEOUT, ORC_ENGINE_STALLED or ORC_ENGINE_CANCELLED, and
 * otherwise returns — a non-zero exit is `success: false`, for the caller to judge.
 */
export interface AgentEngine {
  readonly id: string
  readonly displayName: string
  /** The executable it runs, as configured (named in ORC_ENGINE_UNAVAILABLE). */
  readonly binary: string
  /** Model used when nothing in the precedence chain names one; null lets the CLI decide. */
  readonly defaultModel: string | null
  /** Whether its CLI can resume an earlier conversation by id (`session` in a request). */
  readonly resumesSessions: boolean
  /** Whether the binary can be found now (a PATH lookup; runs nothing). */
  isAvailable(): Promise<boolean>
  run(request: EngineRequest): Promise<EngineResult>
}

/** Engines by id, injected per worker context (never a process-global singleton). */
export interface EngineRegistry {
  /** The engine, or ORC_ENGINE_NOT_REGISTERED naming the id. */
  get(id: string): AgentEngine
  has(id: string): boolean
  /** The id used when nothing names an engine. */
  readonly defaultId: string
  /** Registered ids, in registration order. */
  ids(): string[]
}
