import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { driveDemo } from '../../../src/composition/demo/demo-driver.js'
import { createTestDatabase, DIALECTS, unavailable } from '../../support/databases.js'
import { unique } from '../../support/fixtures.js'
import { makeLocalRepo, tempDir } from '../../support/git-repos.js'
import {
  cleanUpAfterEach,
  commandAgentConfig,
  jsonClient as client,
  startProtocolStack,
  until,
  type EventOut,
} from '../../support/protocol-e2e.js'
import { backendUnavailable } from '../../support/queue-harness.js'

const AGENT = fileURLToPath(new URL('../../fixtures/agents/qa-once-agent.mjs', import.meta.url))

/** Both databases on the embedded queue, and Postgres with Redis (API relay + a BullMQ worker). */
const SETUPS = [...DIALECTS.map((dialect) => [dialect, 'embedded'] as const), ['postgres', 'redis'] as const]

describe.each(SETUPS)('a looping protocol end to end on %s with the %s queue', (dialect, backend) => {
  const held = cleanUpAfterEach()

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'QA of step 01 fails once, the loop steps back and re-runs step 00, then QA passes and the run completes',
    async () => {
      const dir = (held.dir = tempDir('tgz-loop-e2e-'))
      const database = (held.database = await createTestDatabase(dialect))
      const repo = makeLocalRepo(join(dir, 'repo'))
      mkdirSync(join(dir, 'agent'))
      const config = commandAgentConfig({
        dir,
        database: database.target,
        backend,
        agent: AGENT,
        agentArgs: `--state=${join(dir, 'agent')},--fail-step=01-implement.md`,
      })
      const prefix = (held.prefix = backend === 'redis' ? `tgzq-${unique()}` : undefined)
      const { server } = (held.stack = await startProtocolStack(config, { backend, prefix, graceMs: 1_000 }))
      const api = client(server.address)
      const project = await api.call('POST', '/projects', {
        name: `loop-${Date.now().toString(36)}`,
        git_url: repo,
        local_path: repo,
        default_models: { engine: 'command' },
      })
      const run = await api.call('POST', `/projects/${project.id}/protocols`, { protocol_name: '0001-loop' })
      await api.call('POST', `/protocols/${run.id}/actions/start`, {})
      await until(
        async () => ((await api.read(`/protocols/${run.id}`)) as { status: string }).status === 'planned',
      )
      const steps = (await api.read(`/protocols/${run.id}/steps`)) as Array<{ id: number; step_name: string }>
      expect(steps.map((s) => s.step_name)).toEqual(['00-setup.md', '01-implement.md', '02-document.md'])
      const [setup, implement] = steps
      const loop = {
        module_id: 'rework',
        behavior: 'loop',
        step_back: 1,
        max_iterations: 2,
        condition: 'qa_failed',
      }
      await server.runtime.deps.repos.steps.update(implement!.id, { policy: [loop] })

      // A user (the demo driver) runs the next step whenever nothing is in flight.
      const driver = driveDemo(api.read, api.call, run.id)
      try {
        await until(
          async () => ((await api.read(`/protocols/${run.id}`)) as { status: string }).status === 'completed',
          90_000,
        )
      } finally {
        driver.stop()
      }

      const finalSteps = (await api.read(`/protocols/${run.id}/steps`)) as Array<{ status: string }>
      expect(finalSteps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed'])
      const events = ((await api.read(`/protocols/${run.id}/events?limit=500`)) as EventOut[]).reverse()
      const of = (type: string, stepId?: number) =>
        events.filter((e) => e.event_type === type && (stepId === undefined || e.step_run_id === stepId))
      expect(of('qa_failed').map((e) => e.step_run_id)).toEqual([implement!.id])
      expect(of('loop_applied')).toHaveLength(1)
      expect(of('loop_decision')).toHaveLength(1)
      expect(of('loop_applied')[0]).toMatchObject({
        step_run_id: implement!.id,
        metadata: expect.objectContaining({
          module_id: 'rework',
          reason: 'qa_failed',
          target_step_index: 0,
          steps_reset: [0, 1, 2],
          iterations: 1,
          max_iterations: 2,
        }),
      })
      // The loop itself sent step 00 back to execution; nobody had to ask for it.
      const types = events.map((e) => e.event_type)
      const afterLoop = types.slice(types.indexOf('loop_decision'))
      expect(of('step_enqueued', setup!.id).at(-1)?.metadata).toMatchObject({
        source: 'loop',
        module_id: 'rework',
      })
      expect(of('qa_passed', setup!.id)).toHaveLength(2)
      expect(of('qa_passed', implement!.id)).toHaveLength(1)
      expect(of('qa_passed')).toHaveLength(4)
      expect(afterLoop).not.toContain('run_blocked')
      expect(types).not.toContain('loop_limit_reached')
      expect(types.at(-1)).toBe('protocol_completed')
    },
  )
})
