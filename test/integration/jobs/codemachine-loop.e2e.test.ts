import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { driveDemo } from '../../../src/composition/demo/demo-driver.js'
import { createTestDatabase, DIALECTS, unavailable } from '../../support/databases.js'
import { unique } from '../../support/fixtures.js'
import { git, makeLocalRepo, tempDir } from '../../support/git-repos.js'
import {
  cleanUpAfterEach,
  commandAgentConfig,
  jsonClient as client,
  startProtocolStack,
  until,
  type EventOut,
} from '../../support/protocol-e2e.js'
import { backendUnavailable } from '../../support/queue-harness.js'

const AGENT = fileURLToPath(new URL('../../fixtures/agents/codemachine-agent.mjs', import.meta.url))
const WORKSPACE = fileURLToPath(new URL('../../fixtures/codemachine/loop-e2e/', import.meta.url))
const STEP_NAMES = ['00-specify', '01-implement', '02-document']

interface StepOut {
  readonly id: number
  readonly step_name: string
  readonly status: string
}

/** Both databases on the embedded queue, and Postgres with Redis (API relay + a BullMQ worker). */
const SETUPS = [...DIALECTS.map((dialect) => [dialect, 'embedded'] as const), ['postgres', 'redis'] as const]

describe.each(SETUPS)('a CodeMachine workspace end to end on %s with the %s queue', (dialect, backend) => {
  const held = cleanUpAfterEach()

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'imports, starts, loops back once when the QA of step 2 fails, then passes and completes',
    async () => {
      const dir = (held.dir = tempDir('tgz-cm-e2e-'))
      const database = (held.database = await createTestDatabase(dialect))
      const repo = makeLocalRepo(join(dir, 'repo'))
      const workspace = join(repo, 'greeter')
      cpSync(WORKSPACE, workspace, { recursive: true })
      git(repo, 'add', '-A')
      git(repo, 'commit', '-qm', 'CodeMachine workspace')
      mkdirSync(join(dir, 'agent'))
      const config = commandAgentConfig({
        dir,
        database: database.target,
        backend,
        agent: AGENT,
        agentArgs: `--state=${join(dir, 'agent')},--qa-fail-once=01-implement`,
      })
      const prefix = (held.prefix = backend === 'redis' ? `tgzq-${unique()}` : undefined)
      const { server } = (held.stack = await startProtocolStack(config, { backend, prefix, graceMs: 1_000 }))
      const api = client(server.address)
      const project = await api.call('POST', '/projects', {
        name: `cm-${unique()}`,
        git_url: repo,
        local_path: repo,
        default_models: { engine: 'command' },
      })

      const imported = await api.call('POST', `/projects/${project.id}/codemachine/import`, {
        protocol_name: '0001-greeter',
        workspace_path: workspace,
        enqueue: true,
      })
      expect(imported).toMatchObject({ job: { job_type: 'codemachine_import_job' } })
      const runId = (imported.protocol_run as { id: number }).id
      const status = async () => ((await api.read(`/protocols/${runId}`)) as { status: string }).status
      await until(async () => (await status()) === 'planned')
      const steps = (await api.read(`/protocols/${runId}/steps`)) as StepOut[]
      expect(steps.map((s) => [s.step_name, s.status])).toEqual(STEP_NAMES.map((name) => [name, 'pending']))
      const [specify, implement, document] = steps

      // The user starts the imported run: its first step executes, nothing is planned.
      const started = await api.call('POST', `/protocols/${runId}/actions/start`, {})
      expect(started).toMatchObject({ job: { job_type: 'execute_step_job' } })
      const driver = driveDemo(api.read, api.call, runId)
      try {
        await until(async () => (await status()) === 'completed', 90_000)
      } finally {
        driver.stop()
      }

      const finalSteps = (await api.read(`/protocols/${runId}/steps`)) as StepOut[]
      expect(finalSteps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed'])
      const events = ((await api.read(`/protocols/${runId}/events?limit=500`)) as EventOut[]).reverse()
      const types = events.map((e) => e.event_type)
      const of = (type: string, stepId?: number) =>
        events.filter((e) => e.event_type === type && (stepId === undefined || e.step_run_id === stepId))
      expect(types).toContain('codemachine_imported')
      expect(types).not.toContain('planning_enqueued')
      // Step 1 ran once more because of the loop, step 2 twice (failed QA, then passed), step 3 once.
      const executions = [specify, implement, document].map(
        (step) => of('codemachine_step_completed', step!.id).length,
      )
      expect(executions).toEqual([2, 2, 1])

      expect(of('qa_failed').map((e) => e.step_run_id)).toEqual([implement!.id])
      const ofImplement = events
        .filter((e) => e.step_run_id === implement!.id)
        .map((e) => e.event_type)
        .filter((type) => ['qa_failed', 'loop_applied', 'loop_decision', 'qa_passed'].includes(type))
      expect(ofImplement).toEqual(['qa_failed', 'loop_applied', 'loop_decision', 'qa_passed'])
      expect(of('loop_applied')[0]?.metadata).toMatchObject({
        module_id: 'rework',
        reason: 'qa_failed',
        target_step_index: 0,
        iterations: 1,
        max_iterations: 2,
      })
      expect(of('step_enqueued', specify!.id).at(-1)?.metadata).toMatchObject({
        source: 'loop',
        module_id: 'rework',
      })
      expect(of('qa_passed').map((e) => e.step_run_id)).toEqual([
        specify!.id,
        specify!.id,
        implement!.id,
        document!.id,
      ])
      expect(types).not.toContain('loop_limit_reached')
      expect(types.slice(types.indexOf('loop_decision'))).not.toContain('run_blocked')
      expect(types.at(-1)).toBe('protocol_completed')

      const protocolDir = join(workspace, '.protocols', '0001-greeter')
      for (const name of STEP_NAMES)
        expect(readFileSync(join(protocolDir, `${name}.md`), 'utf8')).toContain('agent answer')
      expect(readFileSync(join(protocolDir, '01-implement.md'), 'utf8')).toMatch(
        /# Implement[\s\S]*A command that greets the user by name\./,
      )
      for (const agent of ['specify', 'implement', 'document'])
        expect(existsSync(join(workspace, '.codemachine', 'outputs', `${agent}.md`))).toBe(true)
      // The last review (of step 3) followed the template's QA prompt and saw what the agent was
      // asked and what it answered.
      const report = readFileSync(join(protocolDir, 'quality-report.md'), 'utf8')
      expect(report).toContain('- Instructions: # Review of a greeter step')
      expect(report).toContain('- Step file (02-document): # Document')
      expect(report).toContain('- Agent answer (02-document.md): agent answer')
      expect(report).toContain('VERDICT: PASS')
    },
  )
})
