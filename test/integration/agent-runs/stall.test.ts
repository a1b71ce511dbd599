import { describe, expect, it } from 'vitest'
import {
  AGENT_RUN_SETUPS,
  agentRunEnvPerTest,
  SCRIPTED_AGENT,
  setupUnavailable,
  until,
} from '../../support/agent-runs.js'

describe.each(AGENT_RUN_SETUPS)('a stalled agent on %s with the %s queue', (dialect, backend) => {
  const envs = agentRunEnvPerTest({ dialect, backend })

  it.skipIf(setupUnavailable(dialect, backend))(
    'is stopped after the stall period with its last lines in engine_stalled, and its job retried as a stall',
    async () => {
      const env = await envs.start({
        command: SCRIPTED_AGENT,
        env: { TASKSGODZILLA_AGENT_STALL_SECONDS: '2' },
      })
      const protocol = '0001-stall'
      // The agent prints two lines, then waits for a DONE line that does not come: it goes silent.
      env.script(protocol, '00-first.md.say', 'thinking about it\n')
      const { runId, steps } = await env.plannedRun(protocol)
      const step = steps[0]!
      const startedAt = Date.now()
      expect((await env.call('POST', `/steps/${step.id}/actions/run`)).status).toBe(200)
      await until(
        async () => (await env.events(runId)).some((e) => e.event_type === 'engine_stalled'),
        20_000,
      )
      const stalledAfterMs = Date.now() - startedAt
      const events = await env.events(runId)
      const stall = events.find((e) => e.event_type === 'engine_stalled')!
      expect(stall.step_run_id).toBe(step.id)
      expect(stall.message).toContain('printed nothing for 2 s')
      expect(stall.metadata).toMatchObject({ phase: 'execute', engine_id: 'command', stall_seconds: 2 })
      expect(stall.metadata!.last_lines).toEqual([
        'scripted-agent: executing 00-first.md',
        'thinking about it',
      ])
      expect(stalledAfterMs).toBeGreaterThanOrEqual(2_000)

      // The next attempt (told that its predecessor was interrupted) finishes this time.
      env.script(protocol, '00-first.md.say', 'thinking about it\nDONE\n')
      await until(async () => (await env.step(runId, step.id))?.status === 'needs_qa', 30_000)
      const after = await env.events(runId)
      const retry = after.find((e) => e.event_type === 'job_retry_scheduled')
      expect(retry?.metadata).toMatchObject({ error_category: 'stall', attempts: 1 })
      expect(after.map((e) => e.event_type)).not.toContain('engine_timeout')
      expect(after.map((e) => e.event_type)).not.toContain('job_failed')
    },
    60_000,
  )
})
