import type { AgentEngine, EngineRequest } from '../../app/engine.port.js'
import type { AgentProcessOutcome } from './agent.process.js'
import {
  createCliEngine,
  parseJsonOrNull,
  readOptional,
  record,
  type CliEngineOptions,
  type Interpretation,
  type ScratchFiles,
} from './cli-engine.js'

/** Any executable run as an agent (tests, the demo, custom agents). */
export interface CommandEngineConfig {
  readonly id: string
  readonly displayName?: string
  /** Path or PATH name of the executable. */
  readonly command: string
  /** Fixed arguments; the prompt never goes on the command line. */
  readonly args?: readonly string[]
  readonly defaultModel?: string | null
  /** Parent variables this command needs (its own credentials). Secrets still never pass. */
  readonly passEnv?: readonly string[]
}

/**
 * The contract a command agent is given, all as `TASKSGODZILLA_AGENT_*` variables: the phase,
 * model, sandbox and working dir; where to write its final message (else stdout is the answer),
 * an optional JSON result, and optional usage `{"prompt":n,"completion":n,"cost_usd":x}`.
 */
export const commandEnv = (request: EngineRequest, files: ScratchFiles): Record<string, string> => ({
  TASKSGODZILLA_AGENT_PHASE: request.phase,
  TASKSGODZILLA_AGENT_MODEL: request.model ?? '',
  TASKSGODZILLA_AGENT_SANDBOX: request.sandbox,
  TASKSGODZILLA_AGENT_WORKDIR: request.workingDir,
  TASKSGODZILLA_AGENT_LAST_MESSAGE_FILE: files.lastMessage,
  TASKSGODZILLA_AGENT_RESULT_FILE: files.result,
  TASKSGODZILLA_AGENT_USAGE_FILE: files.usage,
  ...(request.outputSchemaPath ? { TASKSGODZILLA_AGENT_OUTPUT_SCHEMA: request.outputSchemaPath } : {}),
})

const interpretCommand = (outcome: AgentProcessOutcome, files: ScratchFiles): Interpretation => {
  const usage = record(parseJsonOrNull(readOptional(files.usage)))
  const prompt = usage.prompt ?? usage.prompt_tokens
  const completion = usage.completion ?? usage.completion_tokens
  const hasUsage = typeof prompt === 'number' && typeof completion === 'number'
  const resultText = readOptional(files.result)
  return {
    outputText: readOptional(files.lastMessage) ?? outcome.stdoutLines.join('\n'),
    ...(resultText !== undefined ? { structured: parseJsonOrNull(resultText) } : {}),
    usage: hasUsage ? { prompt, completion } : null,
    costUsd: typeof usage.cost_usd === 'number' ? usage.cost_usd : null,
  }
}

export const createCommandEngine = (
  config: CommandEngineConfig,
  options: CliEngineOptions = {},
): AgentEngine =>
  createCliEngine(
    {
      id: config.id,
      displayName: config.displayName ?? `Command (${config.command})`,
      binary: config.command,
      defaultModel: config.defaultModel ?? null,
      passEnv: config.passEnv ?? [],
      invocation: (request, files) => ({ args: [...(config.args ?? [])], env: commandEnv(request, files) }),
      interpret: interpretCommand,
    },
    options,
  )
