import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AGENT_RUN_SETUPS,
  setupUnavailable,
  startAgentRunEnv,
  until,
  type AgentRunEnv,
  type EventOut,
  type StepOut,
} from '../../support/agent-runs.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { removeDir, tempDir } from '../../support/git-repos.js'

const LIMITED_AGENT = fileURLToPath(new URL('../../fixtures/agents/limited-agent.mjs', import.meta.url))

const stateDirs: string[] = []
const stateDir = (): string => {
  const dir = tempDir('tgz-fallback-')
  stateDirs.push(dir)
  return dir
}

/** The limited agent registered under several engine ids, each with its own arguments. */
const commandEngines = (
  state: string,
  engines: Record<string, readonly string[]>,
): Record<string, string> => ({
  TASKSGODZILLA_COMMAND_ENGINES: JSON.stringify(
    Object.fromEntries(
      Object.entries(engines).map(([id, args]) => [
        id,
        [LIMITED_AGENT, `--state=${state}`, `--name=${id}`, ...args],
      ]),
    ),
  ),
})

interface Call {
  readonly what: 'start' | 'limited' | 'done'
  readonly at: number
  readonly engine: string
}

/** The `<step>.calls` log the limited agent keeps: every start and exit, by engine. */
const callsOf = (state: string, protocol: string, step = '00-first.md'): Call[] => {
  const file = join(state, protocol, `${step}.calls`)
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [what, at, engine] = line.split(' ')
      return { what: what as Call['what'], at: Date.parse(at!), engine: engine! }
    })
}

const setProjectChain = async (env: AgentRunEnv, runId: number, engines: unknown): Promise<void> => {
  const run = await env.read<{ project_id: number }>(`/protocols/${runId}`)
  const reply = await env.call('PATCH', `/projects/${run.project_id}`, { engines })
  expect(reply.status).toBe(200)
}

const stepOf = async (env: AgentRunEnv, runId: number, stepId: number): Promise<StepOut> =>
  (await env.read<StepOut[]>(`/protocols/${runId}/steps`)).find((s) => s.id === stepId)!

const ofType = (events: readonly EventOut[], type: string): EventOut[] =>
  events.filter((e) => e.event_type === type)

describe.each(AGENT_RUN_SETUPS)('engine fallback chain on %s with the %s queue', (dialect, backend) => {
  let env: AgentRunEnv | undefined
  afterEach(async () => {
    await env?.stop()
    env = undefined
    for (const dir of stateDirs.splice(0)) removeDir(dir)
  })

  it.skipIf(setupUnavailable(dialect, backend))(
    'runs the next entry in the same attempt when the first reports a usage limit, and the step completes',
    async () => {
      const state = stateDir()
      env = await startAgentRunEnv(
        { dialect, backend },
        {
          command: LIMITED_AGENT,
          args: [`--state=${state}`],
          env: commandEngines(state, { primary: ['--reset-seconds=60'], backup: [] }),
        },
      )
      const { runId, steps } = await env.plannedRun('0001-fallback')
      await setProjectChain(env, runId, [
        { engine: 'primary', model: 'big-model' },
        { engine: 'backup', model: 'small-model' },
      ])
      const step = steps[0]!
      expect((await env.call('POST', `/steps/${step.id}/actions/run`)).status).toBe(200)
      await until(async () => (await stepOf(env!, runId, step.id)).status === 'needs_qa', 30_000)

      const events = await env.events(runId)
      const [fallback] = ofType(events, 'engine_fallback')
      expect(fallback).toMatchObject({
        step_run_id: step.id,
        metadata: {
          reason: 'usage_limit',
          from: { engine_id: 'primary', model: 'big-model' },
          to: { engine_id: 'backup', model: 'small-model' },
        },
      })
      expect(ofType(events, 'engine_limited')).toHaveLength(0)
      const completed = ofType(events, 'step_completed')[0]!
      expect(completed.metadata).toMatchObject({
        engine_id: 'backup',
        model: 'small-model',
        fallback_from: [{ engine_id: 'primary', model: 'big-model', reason: 'usage_limit' }],
      })
      const stepNow = (await env.read<StepOut[]>(`/protocols/${runId}/steps`)).find((s) => s.id === step.id)
      expect(stepNow).toMatchObject({ engine_id: 'backup', model: 'small-model' })
      const calls = callsOf(state, '0001-fallback')
      expect(calls.map((c) => `${c.what} ${c.engine}`)).toEqual([
        'start primary',
        'limited primary',
        'start backup',
        'done backup',
      ])
      const fallbackMs = calls[2]!.at - calls[1]!.at
      console.log(`[fallback] ${dialect}+${backend}: backup started ${fallbackMs} ms after primary's limit`)
      expect(fallbackMs).toBeLessThan(5_000)
    },
    60_000,
  )

  it.skipIf(setupUnavailable(dialect, backend))(
    'parks in waiting_quota at the earliest reset when every entry is limited, then skips the still-limited one without spawning it',
    async () => {
      const state = stateDir()
      env = await startAgentRunEnv(
        { dialect, backend },
        {
          command: LIMITED_AGENT,
          args: [`--state=${state}`],
          env: commandEngines(state, {
            slow: ['--limits=2', '--reset-seconds=120'],
            quick: ['--limits=2', '--reset-seconds=3'],
          }),
        },
      )
      const { runId, steps } = await env.plannedRun('0001-all-limited')
      await setProjectChain(env, runId, [{ engine: 'slow' }, { engine: 'quick' }])
      const step = steps[0]!
      await env.call('POST', `/steps/${step.id}/actions/run`)
      await until(async () => (await stepOf(env!, runId, step.id)).status === 'waiting_quota', 20_000)
      const parked = await stepOf(env, runId, step.id)
      const resumeAt = Date.parse(parked.runtime_state?.resume_at as string)
      // quick's reset (3 s), not slow's (120 s).
      expect(resumeAt - Date.now()).toBeLessThan(5_000)
      const limited = ofType(await env.events(runId), 'engine_limited')[0]!
      expect(limited.metadata).toMatchObject({ engine_id: 'quick', source: 'engine_output' })
      expect(limited.metadata!.chain).toHaveLength(2)

      await until(async () => (await stepOf(env!, runId, step.id)).status === 'needs_qa', 30_000)
      const calls = callsOf(state, '0001-all-limited').filter((c) => c.what === 'start')
      expect(calls.map((c) => c.engine)).toEqual(['slow', 'quick', 'quick'])
      const events = await env.events(runId)
      const skipped = ofType(events, 'engine_fallback').find((e) => e.metadata!.reason === 'circuit_breaker')
      expect(skipped?.metadata).toMatchObject({ from: { engine_id: 'slow' }, to: { engine_id: 'quick' } })
      expect(ofType(events, 'step_completed')[0]!.metadata).toMatchObject({
        engine_id: 'quick',
        fallback_from: [{ engine_id: 'slow', reason: 'circuit_breaker' }],
      })
    },
    60_000,
  )
})

describe.each(DIALECTS)('engine fallback chain on %s (embedded queue)', (dialect) => {
  let env: AgentRunEnv | undefined
  afterEach(async () => {
    await env?.stop()
    env = undefined
    for (const dir of stateDirs.splice(0)) removeDir(dir)
  })

  it.skipIf(unavailable(dialect))(
    "falls back past an engine whose binary is missing (a step's own chain over the project's)",
    async () => {
      const state = stateDir()
      env = await startAgentRunEnv(
        { dialect, backend: 'embedded' },
        {
          command: LIMITED_AGENT,
          args: [`--state=${state}`, '--limits=0'],
          env: {
            TASKSGODZILLA_COMMAND_ENGINES: JSON.stringify({ ghost: [join(state, 'no-such-agent')] }),
          },
        },
      )
      const { runId } = await env.plannedRun('0001-missing')
      // The project's chain would go straight to `command`; the API-created step names its own.
      await setProjectChain(env, runId, [{ engine: 'command' }])
      const created = await env.call('POST', `/protocols/${runId}/steps`, {
        step_index: 5,
        step_name: '05-extra.md',
        step_type: 'work',
        engines: [{ engine: 'ghost', model: null }, { engine: 'command' }],
      })
      expect(created.status).toBe(200)
      const step = (await created.json()) as StepOut & { engines: unknown }
      const run = await env.read<{ protocol_root: string }>(`/protocols/${runId}`)
      writeFileSync(join(run.protocol_root, '05-extra.md'), '# 05-extra.md\n')
      expect(step.engines).toEqual([
        { engine: 'ghost', model: null },
        { engine: 'command', model: null },
      ])
      await env.call('POST', `/steps/${step.id}/actions/run`)
      await until(async () => (await stepOf(env!, runId, step.id)).status === 'needs_qa', 30_000)
      const events = await env.events(runId)
      expect(ofType(events, 'engine_fallback')[0]!.metadata).toMatchObject({
        reason: 'engine_unavailable',
        from: { engine_id: 'ghost' },
        to: { engine_id: 'command' },
      })
      expect(ofType(events, 'engine_unavailable')).toHaveLength(0)
      expect(ofType(events, 'step_completed')[0]!.metadata).toMatchObject({
        engine_id: 'command',
        fallback_from: [{ engine_id: 'ghost', reason: 'engine_unavailable' }],
      })
    },
    60_000,
  )

  it.skipIf(unavailable(dialect))(
    'counts what a limited entry spent against the run budget: the next entry is refused, not spawned',
    async () => {
      const state = stateDir()
      env = await startAgentRunEnv(
        { dialect, backend: 'embedded' },
        {
          command: LIMITED_AGENT,
          args: [`--state=${state}`],
          env: {
            ...commandEngines(state, {
              primary: ['--reset-seconds=60', '--limit-usage=900000'],
              backup: [],
            }),
            TASKSGODZILLA_MAX_TOKENS_PER_PROTOCOL: '800000',
          },
        },
      )
      const { runId, steps } = await env.plannedRun('0001-budget')
      await setProjectChain(env, runId, [{ engine: 'primary' }, { engine: 'backup' }])
      const step = steps[0]!
      await env.call('POST', `/steps/${step.id}/actions/run`)
      await until(async () => (await stepOf(env!, runId, step.id)).status === 'failed', 30_000)
      const events = await env.events(runId)
      expect(ofType(events, 'budget_exceeded')).toHaveLength(1)
      expect(ofType(events, 'engine_fallback')).toHaveLength(1)
      expect(callsOf(state, '0001-budget').map((c) => `${c.what} ${c.engine}`)).toEqual([
        'start primary',
        'limited primary',
      ])
      const run = await env.read<{ tokens_used: number }>(`/protocols/${runId}`)
      expect(run.tokens_used).toBeGreaterThanOrEqual(900_000)
    },
    60_000,
  )

  it.skipIf(unavailable(dialect))(
    'gives the next entry only the time the chain has left, so the engine time limit spans the chain',
    async () => {
      const state = stateDir()
      env = await startAgentRunEnv(
        { dialect, backend: 'embedded' },
        {
          command: LIMITED_AGENT,
          args: [`--state=${state}`],
          env: {
            ...commandEngines(state, {
              primary: ['--reset-seconds=60', '--delay-ms=2000'],
              backup: ['--delay-ms=1500'],
            }),
            TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS: '3',
          },
        },
      )
      const { runId, steps } = await env.plannedRun('0001-time')
      await setProjectChain(env, runId, [{ engine: 'primary' }, { engine: 'backup' }])
      const step = steps[0]!
      await env.call('POST', `/steps/${step.id}/actions/run`)
      await until(async () => (await stepOf(env!, runId, step.id)).status === 'failed', 30_000)
      const events = await env.events(runId)
      expect(ofType(events, 'engine_fallback')).toHaveLength(1)
      expect(ofType(events, 'engine_timeout')).toHaveLength(1)
      const calls = callsOf(state, '0001-time').map((c) => `${c.what} ${c.engine}`)
      expect(calls.slice(0, 2)).toEqual(['start primary', 'limited primary'])
      expect(calls).not.toContain('done backup')
    },
    60_000,
  )
})
