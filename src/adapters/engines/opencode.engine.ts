import type { AgentEngine, EngineRequest } from '../../app/engine.port.js'
import type { AgentProcessOutcome } from './agent.process.js'
import {
  createCliEngine,
  jsonEvents,
  num,
  record,
  type CliAdapter,
  type CliEngineOptions,
  type Interpretation,
} from './cli-engine.js'

const OPENCODE_ENV = [
  'OPENCODE_CONFIG',
  'OPENCODE_CONFIG_DIR',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'OPENROUTER_API_KEY',
  'GOOGLE_GENERATIVE_AI_API_KEY',
]

/**
 * `opencode run --format json --dir DIR [--model provider/model] --agent plan|build`, prompt on
 * stdin (opencode reads a piped stdin as the message). OpenCode has no sandbox flag: its
 * built-in `plan` agent is read-only, `build` may edit.
 */
export const opencodeArgs = (request: EngineRequest): string[] => [
  'run',
  '--format',
  'json',
  '--dir',
  request.workingDir,
  ...(request.model ? ['--model', request.model] : []),
  '--agent',
  request.sandbox === 'read-only' ? 'plan' : 'build',
]

const interpretOpencode = (outcome: AgentProcessOutcome): Interpretation => {
  let prompt = 0
  let completion = 0
  let cost = 0
  let sawUsage = false
  const texts: string[] = []
  for (const event of jsonEvents(outcome.stdoutLines)) {
    const part = record(event.part)
    if (event.type === 'text' && typeof part.text === 'string') texts.push(part.text)
    if (event.type === 'step_finish') {
      const tokens = record(part.tokens)
      const cache = record(tokens.cache)
      prompt += num(tokens.input) + num(cache.read) + num(cache.write)
      completion += num(tokens.output) + num(tokens.reasoning)
      cost += num(part.cost)
      sawUsage = true
    }
  }
  return {
    outputText: texts.length > 0 ? (texts[texts.length - 1] ?? '') : outcome.stdoutLines.join('\n'),
    usage: sawUsage ? { prompt, completion } : null,
    costUsd: sawUsage ? cost : null,
  }
}

export const opencodeAdapter = (binary = 'opencode', defaultModel: string | null = null): CliAdapter => ({
  id: 'opencode',
  displayName: 'OpenCode',
  binary,
  defaultModel,
  passEnv: OPENCODE_ENV,
  invocation: (request) => ({ args: opencodeArgs(request) }),
  interpret: interpretOpencode,
})

export const createOpencodeEngine = (
  options: CliEngineOptions & { binary?: string; defaultModel?: string | null } = {},
): AgentEngine => createCliEngine(opencodeAdapter(options.binary, options.defaultModel ?? null), options)
