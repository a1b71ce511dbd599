import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  AGENT_RUN_SETUPS,
  agentRunEnvPerTest,
  setupUnavailable,
  until,
  type StepOut,
} from '../../support/agent-runs.js'
import { unavailable } from '../../support/databases.js'
import { tempDirsPerTest } from '../../support/suite-resources.js'

const LIMITED_AGENT = fileURLToPath(new URL('../../fixtures/agents/limited-agent.mjs', import.meta.url))

describe.each(AGENT_RUN_SETUPS)('usage limits on %s with the %s queue', (dialect, backend) => {
  // The limited agent's state directory, per test; removed after the environment is stopped.
  const stateDirs = tempDirsPerTest()
  const envs = agentRunEnvPerTest({ dialect, backend })
  const start = async (args: string[]) => {
    const state = stateDirs('tgz-limited-')
    const env = await envs.start({ command: LIMITED_AGENT, args: [`--state=${state}`, ...args] })
    return { env, state }
  }
  const stepOf = async (runId: number, stepId: number) => (await envs.current.step(runId, stepId))!

  it.skipIf(setupUnavailable(dialect, backend))(
    'parks the step in waiting_quota until the printed reset, then resumes it without spending an attempt',
    async () => {
      const { env, state } = await start(['--style=iso', '--reset-seconds=3'])
      const { runId, steps } = await env.plannedRun('0001-limit')
      const step = steps[0]!
      expect((await env.call('POST', `/steps/${step.id}/actions/run`)).status).toBe(200)
      await until(async () => (await stepOf(runId, step.id)).status === 'waiting_quota', 20_000)
      const parked = await stepOf(runId, step.id)
      const resumeAt = parked.runtime_state?.resume_at as string
      expect(Date.parse(resumeAt)).toBeGreaterThan(Date.now() - 3_000)
      const limited = (await env.events(runId)).find((e) => e.event_type === 'engine_limited')!
      expect(limited).toMatchObject({
        step_run_id: step.id,
        metadata: { engine_id: 'command', resume_at: resumeAt, reset_printed: true, source: 'engine_output' },
      })
      const jobId = parked.runtime_state?.job_id as string
      expect(await env.server.runtime.deps.repos.jobs.findById(jobId)).toMatchObject({
        status: 'queued',
        attempts: 0,
      })

      await until(async () => (await stepOf(runId, step.id)).status === 'needs_qa', 30_000)
      const events = await env.events(runId)
      const resumed = events.find((e) => e.event_type === 'engine_resumed')!
      const lateMs = resumed.metadata!.resumed_after_ms as number
      const restartedAt = readFileSync(join(state, '0001-limit', '00-first.md.starts'), 'utf8')
        .trim()
        .split('\n')
      const agentLateMs = Date.parse(restartedAt[1]!) - Date.parse(resumeAt)
      console.log(
        `[limit-resume] ${dialect}+${backend}: engine_resumed ${lateMs} ms, agent restarted ${agentLateMs} ms after resume_at`,
      )
      expect(lateMs).toBeGreaterThanOrEqual(0)
      expect(agentLateMs).toBeLessThan(5_000)
      expect(events.map((e) => e.event_type)).not.toContain('job_retry_scheduled')
      expect(await env.server.runtime.deps.repos.jobs.findById(jobId)).toMatchObject({
        status: 'finished',
        attempts: 1,
      })
    },
    60_000,
  )

  it.skipIf(setupUnavailable(dialect, backend))(
    'parks a step whose QA engine is limited, and judges it after the reset without spending an attempt',
    async () => {
      const { env, state } = await start(['--limits=0', '--qa-limits=1', '--reset-seconds=3'])
      const { runId, steps } = await env.plannedRun('0001-qa-limit')
      const step = steps[0]!
      await env.call('POST', `/steps/${step.id}/actions/run`)
      await until(async () => (await stepOf(runId, step.id)).status === 'needs_qa', 30_000)
      await env.call('POST', `/steps/${step.id}/actions/run_qa`)
      await until(async () => (await stepOf(runId, step.id)).status === 'waiting_quota', 30_000)
      const parked = await stepOf(runId, step.id)
      const limited = (await env.events(runId)).find((e) => e.event_type === 'engine_limited')!
      expect(limited.metadata).toMatchObject({
        phase: 'qa',
        source: 'engine_output',
        resume_at: parked.runtime_state?.resume_at,
      })
      const qaJobId = parked.runtime_state?.qa_job_id as string
      expect(await env.server.runtime.deps.repos.jobs.findById(qaJobId)).toMatchObject({
        type: 'run_quality_job',
        status: 'queued',
        attempts: 0,
      })

      await until(async () => (await stepOf(runId, step.id)).status === 'completed', 30_000)
      const types = (await env.events(runId)).map((e) => e.event_type)
      expect(types).not.toContain('qa_error')
      expect(types).toContain('qa_passed')
      expect(
        (await env.events(runId)).find((e) => e.event_type === 'engine_resumed')?.metadata,
      ).toMatchObject({
        phase: 'qa',
      })
      // The QA prompt names no step file: the agent counts its QA calls under its fallback name.
      const qaStarts = readFileSync(join(state, '0001-qa-limit', 'step.md.qa-starts'), 'utf8')
      expect(qaStarts.trim().split('\n')).toHaveLength(2)
      expect(await env.server.runtime.deps.repos.jobs.findById(qaJobId)).toMatchObject({
        status: 'finished',
        attempts: 1,
      })
    },
    90_000,
  )

  it.skipIf(setupUnavailable(dialect, backend))(
    'keeps a run whose planner is limited in planning, and plans it after the reset',
    async () => {
      const { env, state } = await start(['--plan-limits=1', '--reset-seconds=2'])
      const { runId, steps } = await env.plannedRun('0001-plan-limit')
      expect(steps.map((s) => s.step_name)).toEqual(['00-first.md', '01-second.md'])
      const events = await env.events(runId)
      const types = events.map((e) => e.event_type)
      expect(types).not.toContain('planning_failed')
      expect(types).not.toContain('protocol_blocked')
      const limited = events.find((e) => e.event_type === 'engine_limited')!
      expect(limited).toMatchObject({
        step_run_id: null,
        metadata: { phase: 'plan', source: 'engine_output' },
      })
      expect(events.find((e) => e.event_type === 'engine_resumed')?.metadata).toMatchObject({
        phase: 'plan',
        resume_at: limited.metadata!.resume_at,
      })
      expect(types.indexOf('engine_resumed')).toBeLessThan(types.indexOf('planned'))
      expect(readFileSync(join(state, '0001-plan-limit', 'plan.count'), 'utf8')).toBe('2')
      const planJob = await env.server.runtime.deps.repos.jobs.findById(limited.metadata!.job_id as string)
      expect(planJob).toMatchObject({ type: 'plan_protocol_job', status: 'finished', attempts: 1 })
    },
    60_000,
  )

  it.skipIf(setupUnavailable(dialect, backend))(
    'keeps every other run off a limited engine until its reset (global circuit breaker)',
    async () => {
      const { env, state } = await start(['--style=iso', '--reset-seconds=4'])
      const first = await env.plannedRun('0001-first')
      const second = await env.plannedRun('0002-second')
      // The second run's agent would not be limited: any call it got would succeed at once.
      mkdirSync(join(state, '0002-second'), { recursive: true })
      writeFileSync(join(state, '0002-second', '00-first.md.count'), '1')
      await env.call('POST', `/steps/${first.steps[0]!.id}/actions/run`)
      await until(
        async () => (await stepOf(first.runId, first.steps[0]!.id)).status === 'waiting_quota',
        20_000,
      )
      const resumeAt = (await stepOf(first.runId, first.steps[0]!.id)).runtime_state?.resume_at as string
      await env.call('POST', `/steps/${second.steps[0]!.id}/actions/run`)
      await until(
        async () => (await stepOf(second.runId, second.steps[0]!.id)).status === 'waiting_quota',
        20_000,
      )
      const breaker = (await env.events(second.runId)).find((e) => e.event_type === 'engine_limited')!
      expect(breaker.metadata).toMatchObject({ source: 'circuit_breaker', engine_id: 'command' })
      for (const run of [first, second])
        await until(async () => (await stepOf(run.runId, run.steps[0]!.id)).status === 'needs_qa', 30_000)
      const starts = join(state, '0002-second', '00-first.md.starts')
      const calls = existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n') : []
      expect(calls).toHaveLength(1)
      expect(Date.parse(calls[0]!)).toBeGreaterThanOrEqual(Date.parse(resumeAt))
    },
    60_000,
  )
})

describe('a real CLI limit message without seconds', () => {
  const stateDirs = tempDirsPerTest()
  const envs = agentRunEnvPerTest({ dialect: 'sqlite', backend: 'embedded' })

  it.skipIf(unavailable('sqlite'))(
    "parks a step on codex's 'try again at 3:15 PM' until that minute, and a cancel ends the wait",
    async () => {
      const state = stateDirs('tgz-limited-')
      const env = await envs.start({
        command: LIMITED_AGENT,
        args: [`--state=${state}`, '--style=codex', '--reset-seconds=120'],
      })
      const { runId, steps } = await env.plannedRun('0001-codex')
      await env.call('POST', `/steps/${steps[0]!.id}/actions/run`)
      const read = async () => (await env.read<StepOut[]>(`/protocols/${runId}/steps`))[0]!
      await until(async () => (await read()).status === 'waiting_quota', 20_000)
      const resumeAt = new Date((await read()).runtime_state?.resume_at as string)
      // Printed to the minute: the step waits until that minute, 1 to 3 minutes from now.
      expect(resumeAt.getSeconds()).toBe(0)
      expect(resumeAt.getTime() - Date.now()).toBeGreaterThan(55_000)
      expect(resumeAt.getTime() - Date.now()).toBeLessThan(181_000)
      const limited = (await env.events(runId)).find((e) => e.event_type === 'engine_limited')!
      expect(limited.metadata!.quote).toContain("You've hit your usage limit")
      expect((await env.call('POST', `/protocols/${runId}/actions/cancel`)).status).toBe(200)
      expect((await read()).status).toBe('cancelled')
    },
    60_000,
  )
})
