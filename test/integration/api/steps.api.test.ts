import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`steps API on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    beforeAll(async () => {
      api = await openTestApi(dialect)
      projectId = (await createProject(api)).id
    })
    afterAll(() => api.close())

    it('creates a step with defaults and reads it back by id', async () => {
      const run = await createProtocol(api, projectId)
      const response = await api.request('POST', `/protocols/${run.id}/steps`, {
        body: { step_index: 5, step_name: '05-manual.md', step_type: 'work', policy: [{ behavior: 'loop' }] },
      })
      expect(response.statusCode).toBe(200)
      const step = response.json()
      expect(step).toMatchObject({
        status: 'pending',
        retries: 0,
        runtime_state: null,
        policy: [{ behavior: 'loop' }],
      })
      expect((await api.request('GET', `/steps/${step.id}`)).json()).toEqual(step)
      expect((await api.request('GET', '/steps/987654')).statusCode).toBe(404)
    })

    it('validates step input: negative index, bad policy, unknown status, duplicate name', async () => {
      const run = await createProtocol(api, projectId)
      const bad = [
        { step_index: -1, step_name: 'a', step_type: 'work' },
        { step_index: 0, step_name: 'a', step_type: 'work', policy: 'loop' },
        { step_index: 0, step_name: 'a', step_type: 'work', policy: [1] },
        { step_index: 0, step_name: 'a', step_type: 'work', status: 'bogus' },
      ]
      for (const body of bad) {
        expect(
          (await api.request('POST', `/protocols/${run.id}/steps`, { body })).statusCode,
          JSON.stringify(body),
        ).toBe(422)
      }
      const negative = await api.request('POST', `/protocols/${run.id}/steps`, { body: bad[0] })
      expect(negative.json().detail[0]).toMatchObject({
        type: 'greater_than_equal',
        loc: ['body', 'step_index'],
      })
      await createStep(api, run.id, { step_name: 'dup' })
      expect(
        (
          await api.request('POST', `/protocols/${run.id}/steps`, {
            body: { step_index: 1, step_name: 'dup', step_type: 'work' },
          })
        ).statusCode,
      ).toBe(409)
      expect(
        (
          await api.request('POST', '/protocols/987654/steps', {
            body: { step_index: 1, step_name: 'x', step_type: 'w' },
          })
        ).statusCode,
      ).toBe(404)
    })

    it('runs a pending step: execute job, step_enqueued event, run running; a second run is 409', async () => {
      const run = await createProtocol(api, projectId, { status: 'planning' })
      const step = await createStep(api, run.id)
      const response = await api.request('POST', `/steps/${step.id}/actions/run`)
      expect(response.json()).toMatchObject({
        message: 'Step execution enqueued',
        job: { job_type: 'execute_step_job' },
      })
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('running')
      const events = (await api.request('GET', `/protocols/${run.id}/events?event_type=step_enqueued`)).json()
      expect(events).toMatchObject([{ step_run_id: step.id, message: 'Step execution enqueued.' }])
      const again = await api.request('POST', `/steps/${step.id}/actions/run`)
      expect(again.statusCode).toBe(409)
      expect(again.json().detail).toBe('Step already running or completed')
    })

    it('sends a step to QA, and refuses QA for completed or cancelled steps', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      const step = await createStep(api, run.id, { status: 'running' })
      const qa = await api.request('POST', `/steps/${step.id}/actions/run_qa`)
      expect(qa.json()).toMatchObject({ message: 'QA enqueued', job: { job_type: 'run_quality_job' } })
      expect((await api.request('GET', `/steps/${step.id}`)).json().status).toBe('needs_qa')
      const done = await createStep(api, run.id, { step_index: 1, status: 'completed' })
      const refused = await api.request('POST', `/steps/${done.id}/actions/run_qa`)
      expect(refused.statusCode).toBe(409)
      expect(refused.json().detail).toBe('Step already completed or cancelled')
    })

    it('approves the last open step and closes the running run with protocol_completed', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      await createStep(api, run.id, { status: 'completed' })
      const open = await createStep(api, run.id, { step_index: 1, status: 'needs_qa' })
      const approved = await api.request('POST', `/steps/${open.id}/actions/approve`)
      expect(approved.json()).toMatchObject({ id: open.id, status: 'completed' })
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('completed')
      const types = (await api.request('GET', `/protocols/${run.id}/events`))
        .json()
        .map((e: { event_type: string }) => e.event_type)
      expect(types.slice(0, 2)).toEqual(['protocol_completed', 'manual_approval'])
    })

    it('approves without closing a paused run, and refuses to approve a completed or running step', async () => {
      const run = await createProtocol(api, projectId, { status: 'paused' })
      const step = await createStep(api, run.id, { status: 'failed' })
      expect((await api.request('POST', `/steps/${step.id}/actions/approve`)).statusCode).toBe(200)
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('paused')
      expect((await api.request('POST', `/steps/${step.id}/actions/approve`)).json().detail).toBe(
        'Step already completed',
      )
      const running = await createStep(api, run.id, { step_index: 1, status: 'running' })
      expect((await api.request('POST', `/steps/${running.id}/actions/approve`)).statusCode).toBe(409)
    })
  })
}
