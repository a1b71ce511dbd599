import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claudeArgs } from '../../src/adapters/engines/claude.engine.js'
import { codexArgs } from '../../src/adapters/engines/codex.engine.js'
import { opencodeArgs } from '../../src/adapters/engines/opencode.engine.js'
import type { EngineRequest, SandboxMode } from '../../src/app/engine.port.js'
import { removeDir, tempDir } from '../support/git-repos.js'

// The real CLIs (@openai/codex, @anthropic-ai/claude-code, opencode-ai) are installed by
// `npm run setup:agent-clis` (CI always runs it). Their help is captured offline with an empty
// HOME: no network call, no model call.
const BIN = fileURLToPath(new URL('../../tools/agent-clis/node_modules/.bin/', import.meta.url))
const INSTALLED = ['codex', 'claude', 'opencode'].every((binary) => existsSync(join(BIN, binary)))
if (!INSTALLED)
  console.log('[engine-argv] SKIPPED: run `npm run setup:agent-clis` to install the real agent CLIs')
let home: string
let schemaPath: string

beforeAll(() => {
  home = tempDir('tgz-help-')
  schemaPath = join(home, 'schema.json')
  writeFileSync(schemaPath, '{"type":"object"}')
})
afterAll(() => removeDir(home))

/** Help text from stdout and stderr (yargs-based CLIs print help on stderr). */
const help = (binary: string, ...args: string[]): string => {
  const run = spawnSync(join(BIN, binary), [...args, '--help'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: home,
      XDG_DATA_HOME: home,
      NO_COLOR: '1',
      CI: '1',
    },
    encoding: 'utf8',
    timeout: 60_000,
  })
  if (run.error) throw run.error
  return `${run.stdout}\n${run.stderr}`
}

const request = (sandbox: SandboxMode): EngineRequest => ({
  phase: 'plan',
  workingDir: '/work/tree',
  prompt: 'p',
  model: 'some-model',
  sandbox,
  timeoutMs: 1000,
  signal: new AbortController().signal,
  logPath: '/tmp/x.log',
  scratchDir: '/tmp',
  outputSchemaPath: schemaPath,
})

const flagsOf = (argv: readonly string[]): string[] =>
  argv.filter((arg) => arg.startsWith('-') && arg !== '-')

const expectFlagsDocumented = (argv: readonly string[], helpText: string): void => {
  for (const flag of flagsOf(argv)) {
    const pattern = new RegExp(`(^|[\\s,])${flag.replace(/[-]/g, '\\-')}(?=[\\s,=<\\[]|$)`, 'm')
    expect(helpText, `flag ${flag}`).toMatch(pattern)
  }
}

const SESSION = '0b9c3a4e-5d6f-4a1b-9c8d-7e6f5a4b3c2d'

describe('agent session arguments', () => {
  const files = { lastMessage: '/tmp/m', result: '/tmp/r', usage: '/tmp/u' }
  it('claude keeps nothing by default, names a new session, or resumes one', () => {
    expect(claudeArgs(request('read-only'))).toContain('--no-session-persistence')
    const started = claudeArgs({ ...request('workspace-write'), session: { kind: 'start', id: SESSION } })
    expect(started).not.toContain('--no-session-persistence')
    expect(started[started.indexOf('--session-id') + 1]).toBe(SESSION)
    const resumed = claudeArgs({ ...request('workspace-write'), session: { kind: 'resume', id: SESSION } })
    expect(resumed[resumed.indexOf('--resume') + 1]).toBe(SESSION)
  })

  it('codex is ephemeral without a session, persists a kept one, and resumes by id', () => {
    expect(codexArgs(request('read-only'), files)).toContain('--ephemeral')
    const kept = codexArgs({ ...request('workspace-write'), session: { kind: 'start', id: SESSION } }, files)
    expect(kept).not.toContain('--ephemeral')
    const resumed = codexArgs(
      { ...request('workspace-write'), session: { kind: 'resume', id: SESSION } },
      files,
    )
    expect(resumed).toContain('sandbox_mode="workspace-write"')
    expect(resumed).not.toContain('--cd')
  })

  it('refuses a session id that is not a UUID before it reaches argv', () => {
    for (const id of ['--dangerously-bypass-approvals-and-sandbox', '../x', `${SESSION} -c x=1`]) {
      expect(() => claudeArgs({ ...request('read-only'), session: { kind: 'resume', id } })).toThrow(
        /not a UUID/,
      )
      expect(() => codexArgs({ ...request('read-only'), session: { kind: 'resume', id } }, files)).toThrow(
        /not a UUID/,
      )
    }
  })
})

const SANDBOXES: SandboxMode[] = ['read-only', 'workspace-write', 'danger-full-access']

describe.skipIf(!INSTALLED)('engine argv against the real CLIs', () => {
  it('codex exec: every flag and sandbox value appears in `codex exec --help`', () => {
    const text = help('codex', 'exec')
    const argv = codexArgs(request('read-only'), { lastMessage: '/tmp/m', result: '/tmp/r', usage: '/tmp/u' })
    expect(argv[0]).toBe('exec')
    expect(argv[argv.length - 1]).toBe('-')
    expectFlagsDocumented(argv, text)
    for (const sandbox of SANDBOXES) expect(text).toContain(sandbox)
    expect(text).toMatch(/if `-` is used\),?\s+instructions are read from stdin/)
  })

  it('claude -p: every flag and permission mode appears in `claude --help`', () => {
    const text = help('claude')
    for (const sandbox of SANDBOXES) {
      const argv = claudeArgs(request(sandbox))
      expectFlagsDocumented(argv, text)
      const mode = argv[argv.indexOf('--permission-mode') + 1]
      expect(text).toContain(`"${mode}"`)
    }
    expect(text).toContain('"stream-json"')
  })

  it('codex exec resume: every flag of a resumed execution appears in `codex exec resume --help`', () => {
    const text = help('codex', 'exec', 'resume')
    const argv = codexArgs(
      { ...request('workspace-write'), session: { kind: 'resume', id: SESSION } },
      { lastMessage: '/tmp/m', result: '/tmp/r', usage: '/tmp/u' },
    )
    expect(argv.slice(0, 2)).toEqual(['exec', 'resume'])
    expect(argv.slice(-2)).toEqual([SESSION, '-'])
    expectFlagsDocumented(argv, text)
    expect(text).toMatch(/\[SESSION_ID\] \[PROMPT\]/)
    expect(text).toMatch(/If `-` is used, read from stdin/)
    expect(help('codex', 'exec')).toMatch(/--ephemeral/)
  })

  it('claude -p: the session flags of a kept and a resumed execution appear in `claude --help`', () => {
    const text = help('claude')
    for (const kind of ['start', 'resume'] as const)
      expectFlagsDocumented(
        claudeArgs({ ...request('workspace-write'), session: { kind, id: SESSION } }),
        text,
      )
    expect(text).toMatch(/--session-id <uuid>/)
    expect(text).toMatch(/-r, --resume \[value\]/)
  })

  it('opencode run: every flag appears in `opencode run --help`', () => {
    const text = help('opencode', 'run')
    const argv = opencodeArgs(request('workspace-write'))
    expect(argv[0]).toBe('run')
    expectFlagsDocumented(argv, text)
    expect(text).toContain('"json"')
  })
})
