import type { AgentEngine, EngineRequest } from '../../app/engine.port.js'
import type { AgentProcessOutcome } from './agent.process.js'
import {
  createCliEngine,
  jsonEvents,
  num,
  readOptional,
  record,
  sessionIdArg,
  type CliAdapter,
  type CliEngineOptions,
  type CliSessions,
  type Interpretation,
  type ScratchFiles,
} from './cli-engine.js'

/** The credentials and config locations `codex` reads. */
const CODEX_ENV = ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_ORG_ID', 'OPENAI_PROJECT_ID', 'CODEX_HOME']

/**
 * `codex exec --model M --cd DIR --sandbox S --skip-git-repo-check --json
 *  --output-last-message F [--output-schema SCHEMA] [--ephemeral] -` with the prompt on stdin. The
 * JSONL event stream gives token usage (`turn.completed`) and the thread id (`thread.started`); the
 * last-message file gives the answer. A call that keeps no session is `--ephemeral`; one that
 * resumes is `codex exec resume … ID -` (see codexResumeArgs).
 */
export const codexArgs = (request: EngineRequest, files: ScratchFiles): string[] =>
  request.session?.kind === 'resume'
    ? codexResumeArgs(request, files, request.session.id)
    : [
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
        ...(request.session ? [] : ['--ephemeral']),
        '-',
      ]

/**
 * `codex exec resume [--model M] -c sandbox_mode="S" --skip-git-repo-check --json
 *  --output-last-message F [--output-schema SCHEMA] ID -`: `resume` takes neither `--sandbox` nor
 * `--cd`, so the sandbox is a config override and the worktree is the process's cwd.
 */
const codexResumeArgs = (request: EngineRequest, files: ScratchFiles, id: string): string[] => [
  'exec',
  'resume',
  ...(request.model ? ['--model', request.model] : []),
  '-c',
  `sandbox_mode="${request.sandbox}"`,
  '--skip-git-repo-check',
  '--json',
  '--output-last-message',
  files.lastMessage,
  ...(request.outputSchemaPath ? ['--output-schema', request.outputSchemaPath] : []),
  sessionIdArg(id),
  '-',
]

/** Codex names the thread itself, in its first event; `resume` of an unknown id says so. */
const codexSessions: CliSessions = {
  idIn: (line) => {
    const event = jsonEvents([line])[0]
    return event?.type === 'thread.started' && typeof event.thread_id === 'string'
      ? event.thread_id
      : undefined
  },
  takesProposedId: false,
  isMissing: (outcome) =>
    outcome.exitCode !== 0 &&
    /No saved session found with ID/.test(`${outcome.stderrTail}\n${outcome.stdoutLines.join('\n')}`),
}

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
  sessions: codexSessions,
})

export const createCodexEngine = (
  options: CliEngineOptions & { binary?: string; defaultModel?: string | null } = {},
): AgentEngine => createCliEngine(codexAdapter(options.binary, options.defaultModel ?? null), options)
