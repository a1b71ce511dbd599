import { afterAll, describe, expect, it } from 'vitest'
import { createProtocolJobHandlers } from '../../../src/app/jobs/protocol-handlers.js'
import { createLogger } from '../../../src/logging.js'
import { createProtocolJobDeps, startDemo, type RunningDemo } from '../../../src/main.js'
import { silentStream } from '../../support/api.js'
import { removeDir, tempDir } from '../../support/git-repos.js'
import { jobRun } from '../../support/protocol-jobs.js'

describe('tasksgodzilla demo', () => {
  const dir = tempDir('tgz-demo-')
  let demo: RunningDemo | undefined
  afterAll(async () => {
    await demo?.stop()
    removeDir(dir)
  })

  it('starts a protocol that the wired handlers carry to completion', async () => {
    demo = await startDemo({}, { dir }, (config) => createLogger(config, silentStream()))
    const { runtime } = demo
    const handlers = createProtocolJobHandlers(createProtocolJobDeps(runtime))
    const runId = demo.protocolRunId
    expect(demo.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/)
    await handlers.plan_protocol_job({ protocol_run_id: runId, job_id: 'plan' }, jobRun())
    const steps = await runtime.deps.repos.steps.listByRun(runId)
    expect(steps).toHaveLength(3)
    for (const step of steps) {
      const response = await fetch(`${demo.address}/steps/${step.id}/actions/run`, { method: 'POST' })
      expect(response.status).toBe(200)
      await handlers.execute_step_job({ step_run_id: step.id, job_id: 'exec' }, jobRun())
      await handlers.run_quality_job({ step_run_id: step.id, job_id: 'qa' }, jobRun())
      const logs = await fetch(`${demo.address}/steps/${step.id}/logs`)
      expect(await logs.text()).toContain(`working on ${step.stepName}`)
    }
    expect((await runtime.deps.repos.runs.findById(runId))?.status).toBe('completed')
    const metrics = await runtime.metrics.registry.metrics()
    expect(metrics).toContain('qa_verdict_total{verdict="PASS"} 3')
  })
})
