import { appendFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changeStepStatus } from '../../../src/app/state-changes.js'
import {
  createProject,
  createProtocol,
  createStep,
  openTestApi,
  runningStepWithLog as runningStepWithLogIn,
  type TestApi,
} from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { removeDir, tempDir } from '../../support/git-repos.js'

describe.each(DIALECTS)('GET /steps/{id}/logs on %s', (dialect) => {
  let api: TestApi
  let dir: string
  beforeAll(async () => {
    if (unavailable(dialect)) return
    api = await openTestApi(dialect)
    dir = tempDir('tgz-logs-')
  })
  afterAll(async () => {
    await api?.close()
    if (dir) removeDir(dir)
  })

  /** A running step whose runtime_state points at a log file with two lines. */
  const runningStepWithLog = () => runningStepWithLogIn(api, dir, 'first line\nsecond line\n')

  it.skipIf(unavailable(dialect))(
    'serves the log as text, empty without one, 404 for an unknown step',
    async () => {
      const { step } = await runningStepWithLog()
      const response = await api.request('GET', `/steps/${step.id}/logs`)
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toContain('text/plain')
      expect(response.body).toBe('first line\nsecond line\n')
      const project = await createProject(api)
      const other = await createStep(api, (await createProtocol(api, project.id)).id)
      expect((await api.request('GET', `/steps/${other.id}/logs`)).body).toBe('')
      expect((await api.request('GET', '/steps/999999/logs')).statusCode).toBe(404)
    },
  )

  it.skipIf(unavailable(dialect))('follows appended lines as SSE until the step leaves running', async () => {
    const { step, logPath, runId } = await runningStepWithLog()
    const pending = api.request('GET', `/steps/${step.id}/logs?follow=1`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    appendFileSync(logPath, 'third line\n')
    await new Promise((resolve) => setTimeout(resolve, 700))
    await api.runtime.deps.uow.run(async (tx) => {
      const stored = (await tx.steps.findById(step.id))!
      const run = (await tx.runs.findById(runId))!
      await changeStepStatus(tx, run, stored, {
        action: 'executed',
        event: { type: 'test', message: 'test' },
        origin: {},
      })
    })
    const response = await pending
    expect(response.headers['content-type']).toContain('text/event-stream')
    const data = response.body
      .split('\n')
      .filter((line) => line.startsWith('data: "'))
      .map((line) => JSON.parse(line.slice(6)) as string)
    expect(data).toEqual(['first line', 'second line', 'third line'])
    expect(response.body).toContain('event: end')
  })
})
