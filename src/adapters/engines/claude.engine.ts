import { readFileSync } from 'node:fs'
import type { AgentEngine, EngineRequest, SandboxMode } from '../../app/engine.port.js'
import type { JsonValue } from '../../domain/json.js'
import type { AgentProcessOutcome } from './agent.process.js'
import {
  createCliEngine,
  jsonEvents,
  num,
  record,
  sessionIdArg,
  type CliAdapter,
  type CliEngineOptions,
  type CliSessions,
  type Interpretation,
} from './cli-engine.js'

const CLAUDE_ENV = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'CLAUDE_CONFIG_DIR',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
]

/** Claude Code has permission modes, not sandboxes: plan mode cannot edit, acceptEdits can. */
const PERMISSION_MODE: Record<SandboxMode, string> = {
  'read-only': 'plan',
  'workspace-write': 'acceptEdits',
  'danger-full-access': 'bypassPermissions',
}

/**
 * `claude -p --output-format stream-json --verbose [--model M] --permission-mode MODE SESSION
 *  [--json-schema SCHEMA]` in the worktree, prompt on stdin. SESSION is `--session-id ID` (a kept
 * conversation we name), `--resume ID`, or `--no-session-persistence`. The final `result` event
 * carries the answer, usage and cost.
 */
export const claudeArgs = (request: EngineRequest): string[] => [
  '-p',
  '--output-format',
  'stream-json',
  '--verbose',
  ...(request.model ? ['--model', request.model] : []),
  '--permission-mode',
  PERMISSION_MODE[request.sandbox],
  ...sessionArgs(request),
  ...(request.outputSchemaPath ? ['--json-schema', readFileSync(request.outputSchemaPath, 'utf8')] : []),
]

const sessionArgs = ({ session }: EngineRequest): string[] => {
  if (!session) return ['--no-session-persistence']
  const id = sessionIdArg(session.id)
  return session.kind === 'resume' ? ['--resume', id] : ['--session-id', id]
}

/** Claude announces its session in every stream-json event; the `system` init event comes first. */
const claudeSessions: CliSessions = {
  idIn: (line) => {
    const event = jsonEvents([line])[0]
    return typeof event?.session_id === 'string' ? event.session_id : undefined
  },
  takesProposedId: true,
  isMissing: (outcome) =>
    outcome.exitCode !== 0 &&
    /No conversation found with session ID/.test(`${outcome.stderrTail}\n${outcome.stdoutLines.join('\n')}`),
}

const interpretClaude = (outcome: AgentProcessOutcome): Interpretation => {
  const result = jsonEvents(outcome.stdoutLines).findLast((event) => event.type === 'result')
  if (!result) return { outputText: outcome.stdoutLines.join('\n'), usage: null, costUsd: null }
  const usage = record(result.usage)
  const structured = result.structured_output
  return {
    outputText: typeof result.result === 'string' ? result.result : '',
    ...(structured !== undefined ? { structured: structured as JsonValue } : {}),
    usage: {
      prompt:
        num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens),
      completion: num(usage.output_tokens),
    },
    costUsd: typeof result.total_cost_usd === 'number' ? result.total_cost_usd : null,
  }
}

export const claudeAdapter = (binary = 'claude', defaultModel: string | null = null): CliAdapter => ({
  id: 'claude',
  displayName: 'Claude Code',
  binary,
  defaultModel,
  passEnv: CLAUDE_ENV,
  invocation: (request) => ({ args: claudeArgs(request) }),
  interpret: interpretClaude,
  sessions: claudeSessions,
})

export const createClaudeEngine = (
  options: CliEngineOptions & { binary?: string; defaultModel?: string | null } = {},
): AgentEngine => createCliEngine(claudeAdapter(options.binary, options.defaultModel ?? null), options)
