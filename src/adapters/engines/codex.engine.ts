import type { AgentEngine, EngineRequest } from '../../app/engine.port.js'
import type { AgentProcessOutcome } from './agent.process.js'
import {
  createCliEngine,
  jsonEvents,
  num,
  readOptional,
  record,
  type CliAdapter,
  type CliEngineOptions,
  type Interpretation,
  type ScratchFiles,
} from './cli-engine.js'

/** The credentials and config locations `codex` reads. */
const CODEX_ENV = ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'CODEX_HOME']

/**
 * `codex exec --model M --cd DIR --sandbox S --skip-git-repo-check --json
 *  --output-last-message F [--output-schema SCHEMA] -` with the prompt on stdin. The JSONL event
 * stream gives token usage (`turn.completed`); the last-message file gives the answer.
 */
export const codexArgs = (request: EngineRequest, files: ScratchFiles): string[] => [
  'exec',
  ...(request.model ? ['--model', request.model] : []),
  '--cd',
  request.workingDir,
  '--sandbox',
  request.sandbox,
  '--skip-git-repo-check',
  '--json',
  '--color',
  'never',
  '--output-last-message',
  files.lastMessage,
  ...(request.outputSchemaPath ? ['--output-schema', request.outputSchemaPath] : []),
  '-',
]

const interpretCodex = (outcome: AgentProcessOutcome, files: ScratchFiles): Interpretation => {
  let prompt = 0
  let completion = 0
  let sawUsage = false
  let lastAgentMessage = ''
  for (const event of jsonEvents(outcome.stdoutLines)) {
    if (event.type === 'turn.completed') {
      const usage = record(event.usage)
      prompt += num(usage.input_tokens)
      completion += num(usage.output_tokens)
      sawUsage = true
    }
    const item = record(event.item)
    if (event.type === 'item.completed' && item.type === 'agent_message' && typeof item.text === 'string')
      lastAgentMessage = item.text
  }
  return {
    outputText: readOptional(files.lastMessage) ?? lastAgentMessage,
    usage: sawUsage ? { prompt, completion } : null,
    costUsd: null,
  }
}

export const codexAdapter = (binary = 'codex', defaultModel: string | null = null): CliAdapter => ({
  id: 'codex',
  displayName: 'Codex CLI',
  binary,
  defaultModel,
  passEnv: CODEX_ENV,
  invocation: (request, files) => ({ args: codexArgs(request, files) }),
  interpret: interpretCodex,
})

export const createCodexEngine = (
  options: CliEngineOptions & { binary?: string; defaultModel?: string | null } = {},
): AgentEngine => createCliEngine(codexAdapter(options.binary, options.defaultModel ?? null), options)
