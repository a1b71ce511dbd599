import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/logging.js'
import { startDemo, type RunningDemo } from '../../../src/composition/index.js'
import { silentStream } from '../../support/api.js'
import { removeDir, tempDir } from '../../support/git-repos.js'

const until = async <T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('tasksgodzilla demo', () => {
  const dir = tempDir('tgz-demo-')
  let demo: RunningDemo | undefined
  afterAll(async () => {
    await demo?.stop()
    removeDir(dir)
  })

  it('plans, executes and passes QA through the embedded queue with the real handlers', async () => {
    demo = await startDemo({}, { dir }, (config) => createLogger(config, silentStream()))
    const { runtime } = demo
    const runId = demo.protocolRunId
    expect(demo.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/)
    const run = () => runtime.deps.repos.runs.findById(runId)
    expect((await until(run, (r) => r?.status !== 'planning'))?.status).toMatch(/^(planned|running)$/)
    const steps = await runtime.deps.repos.steps.listByRun(runId)
    expect(steps).toHaveLength(3)
    // The demo drives the run itself, one step after the other, as a user would.
    expect((await until(run, (r) => r?.status === 'completed', 90_000))?.status).toBe('completed')
    for (const step of steps) {
      expect((await runtime.deps.repos.steps.findById(step.id))?.status).toBe('completed')
      const logs = await fetch(`${demo.address}/steps/${step.id}/logs`)
      expect(await logs.text()).toContain(`working on ${step.stepName}`)
    }
    expect(await runtime.metrics.registry.metrics()).toContain('qa_verdict_total{verdict="PASS"} 3')
  })
})
