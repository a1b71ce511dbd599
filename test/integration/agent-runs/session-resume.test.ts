import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { EventOut } from '../../support/agent-runs.js'
import { unavailable } from '../../support/databases.js'
import { git } from '../../support/git-repos.js'
import { backendUnavailable } from '../../support/queue-harness.js'
import { CRASH_SETUPS, crashHarness, type CrashedStep } from '../../support/worker-crash.js'

// Planning and QA go to the halfway agent (the `command` engine); execution goes to the project's
// engine chain of one: claude or codex, played by session-agent.mjs first on PATH.
const HALFWAY_AGENT = fileURLToPath(new URL('../../fixtures/agents/halfway-agent.mjs', import.meta.url))
const SESSION_CLI = fileURLToPath(new URL('../../fixtures/agents/session-cli', import.meta.url))
const CONFIG_DIR = { claude: 'CLAUDE_CONFIG_DIR', codex: 'CODEX_HOME' } as const
type Flavour = keyof typeof CONFIG_DIR

const scenario = (flavour: Flavour, { forget = false } = {}) => ({
  env: (root: string) => {
    const home = join(root, `${flavour}-home`)
    mkdirSync(home, { recursive: true })
    if (forget) writeFileSync(join(home, 'forget'), '')
    return {
      PATH: `${SESSION_CLI}:${process.env.PATH ?? ''}`,
      [CONFIG_DIR[flavour]]: home,
      TASKSGODZILLA_COMMAND_ENGINE: HALFWAY_AGENT,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--state=${join(root, 'agent')}`,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
    }
  },
  project: { engines: [{ engine: flavour }] },
})

/** Each invocation's argv as the fake CLI recorded it. */
const invocations = (crashed: CrashedStep, flavour: Flavour): string[][] =>
  readFileSync(join(crashed.dir, `${flavour}-home`, 'invocations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string[])

const after = (argv: readonly string[], flag: string): string | undefined =>
  argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined

const sessionEvents = async (crashed: CrashedStep): Promise<EventOut[]> =>
  (await crashed.read<EventOut[]>(`/protocols/${crashed.runId}/events?limit=500`))
    .reverse()
    .filter((e) => e.event_type.startsWith('session_'))

const expectBothHalvesCommittedOnce = (crashed: CrashedStep): void => {
  expect(git(crashed.worktree, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n')).toEqual(
    expect.arrayContaining(['work/part-1.txt', 'work/part-2.txt']),
  )
  const subjects = git(crashed.worktree, 'log', '--format=%s').trim().split('\n')
  expect(subjects.filter((s) => s === '[protocol-0001/00] Execute 00-only.md')).toHaveLength(1)
}

describe.each(CRASH_SETUPS.filter(([b, d]) => b === 'redis' || d === 'sqlite'))(
  'the agent session of a step whose worker was killed, on the %s queue with %s',
  (backend, dialect) => {
    const harness = crashHarness()
    afterEach(harness.cleanUp)
    const skip = unavailable(dialect) || backendUnavailable(backend)

    it.skipIf(skip)(
      'claude: the next attempt resumes the session the first one started',
      async () => {
        const crashed = await harness.crashStep([backend, dialect], scenario('claude'))
        const [first, second, ...more] = invocations(crashed, 'claude')
        const id = after(first!, '--session-id')
        expect(id).toMatch(/^[0-9a-f-]{36}$/)
        expect(first).not.toContain('--no-session-persistence')
        expect(after(second!, '--resume')).toBe(id)
        expect(second).not.toContain('--session-id')
        expect(more).toEqual([])
        expect(await sessionEvents(crashed)).toMatchObject([
          {
            event_type: 'session_resumed',
            step_run_id: crashed.stepId,
            metadata: { engine_id: 'claude', session_id: id },
          },
        ])
        expectBothHalvesCommittedOnce(crashed)
      },
      180_000,
    )

    it.skipIf(skip)(
      'codex: the next attempt resumes the thread the first one announced',
      async () => {
        const crashed = await harness.crashStep([backend, dialect], scenario('codex'))
        const [first, second, ...more] = invocations(crashed, 'codex')
        expect(first!.slice(0, 2)).toEqual(['exec', '--cd'])
        expect(first).not.toContain('--ephemeral')
        const [thread] = readdirSync(join(crashed.dir, 'codex-home', 'sessions'))
        expect(second!.slice(0, 2)).toEqual(['exec', 'resume'])
        expect(second!.slice(-2)).toEqual([thread, '-'])
        expect(after(second!, '-c')).toBe('sandbox_mode="workspace-write"')
        expect(more).toEqual([])
        expect(await sessionEvents(crashed)).toMatchObject([
          { event_type: 'session_resumed', metadata: { engine_id: 'codex', session_id: thread } },
        ])
        expectBothHalvesCommittedOnce(crashed)
      },
      180_000,
    )

    it.skipIf(skip)(
      'a session the CLI no longer has: a fresh one starts in the same attempt',
      async () => {
        const crashed = await harness.crashStep([backend, dialect], scenario('claude', { forget: true }))
        const [first, second, third, ...more] = invocations(crashed, 'claude')
        const id = after(first!, '--session-id')
        expect(after(second!, '--resume')).toBe(id)
        const fresh = after(third!, '--session-id')
        expect(fresh).toMatch(/^[0-9a-f-]{36}$/)
        expect(fresh).not.toBe(id)
        expect(more).toEqual([])
        expect((await sessionEvents(crashed)).map((e) => [e.event_type, e.metadata?.session_id])).toEqual([
          ['session_resumed', id],
          ['session_resume_failed', id],
        ])
        expectBothHalvesCommittedOnce(crashed)
      },
      180_000,
    )
  },
)
