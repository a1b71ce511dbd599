import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`protocol runs API on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    beforeAll(async () => {
      api = await openTestApi(dialect)
      projectId = (await createProject(api)).id
    })
    afterAll(() => api.close())

    const post = (url: string) => api.request('POST', url)
    const statusOf = async (runId: number) => (await api.request('GET', `/protocols/${runId}`)).json().status

    it('creates a run with the original fields plus its branch, and refuses a duplicate name with 409', async () => {
      const response = await api.request('POST', `/projects/${projectId}/protocols`, {
        body: { protocol_name: '0042-add-login', description: 'Add login' },
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({
        protocol_name: '0042-add-login',
        status: 'pending',
        base_branch: 'main',
        branch_name: '0042-add-login',
        spec_hash: null,
        spec_validation_status: null,
      })
      const again = await api.request('POST', `/projects/${projectId}/protocols`, {
        body: { protocol_name: '0042-add-login' },
      })
      expect(again.statusCode).toBe(409)
    })

    it('refuses protocol names that are not NNNN-short-name or not safe git refs, and unknown statuses', async () => {
      for (const name of [
        'demo',
        '0001-',
        '../0001-x',
        '-oProxyCommand=x',
        '0001-a..b',
        '0001-a b',
        '0001-é',
        '0001-x.lock',
      ]) {
        const response = await api.request('POST', `/projects/${projectId}/protocols`, {
          body: { protocol_name: name },
        })
        expect(response.statusCode, name).toBe(422)
      }
      const bogus = await api.request('POST', `/projects/${projectId}/protocols`, {
        body: { protocol_name: '0099-ok', status: 'bogus' },
      })
      expect(bogus.statusCode).toBe(422)
    })

    it('starts a pending run once: planning with a plan job and a planning_enqueued event; then 409', async () => {
      const run = await createProtocol(api, projectId)
      const started = await post(`/protocols/${run.id}/actions/start`)
      expect(started.statusCode).toBe(200)
      expect(started.json()).toMatchObject({
        message: 'Protocol planning enqueued',
        job: {
          job_type: 'plan_protocol_job',
          status: 'queued',
          queue: 'default',
          attempts: 0,
          max_attempts: 3,
        },
      })
      const job = started.json().job
      expect(job.payload).toMatchObject({ protocol_run_id: run.id, job_id: job.job_id })
      expect(await statusOf(run.id)).toBe('planning')
      const events = (
        await api.request('GET', `/protocols/${run.id}/events?event_type=planning_enqueued`)
      ).json()
      expect(events).toMatchObject([
        { message: 'Planning job enqueued.', metadata: { job_id: job.job_id, spec_hash: null } },
      ])
      const again = await post(`/protocols/${run.id}/actions/start`)
      expect(again.statusCode).toBe(409)
      expect(again.json().detail).toBe('Protocol already running or terminal')
    })

    it('pauses, resumes and cancels with the 409 rules, idempotent where the original was', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      expect((await post(`/protocols/${run.id}/actions/resume`)).json().detail).toBe('Protocol is not paused')
      expect((await post(`/protocols/${run.id}/actions/pause`)).json().status).toBe('paused')
      expect((await post(`/protocols/${run.id}/actions/pause`)).statusCode).toBe(200)
      const start = await post(`/protocols/${run.id}/actions/start`)
      expect(start.statusCode).toBe(409)
      expect(start.json().detail).toMatch(/resume/)
      expect((await post(`/protocols/${run.id}/actions/resume`)).json().status).toBe('running')
      expect((await post(`/protocols/${run.id}/actions/cancel`)).json().status).toBe('cancelled')
      const again = await post(`/protocols/${run.id}/actions/cancel`)
      expect(again.statusCode).toBe(200)
      expect((await post(`/protocols/${run.id}/actions/pause`)).json().detail).toBe(
        'Protocol already terminal',
      )
      const types = (await api.request('GET', `/protocols/${run.id}/events`))
        .json()
        .map((e: { event_type: string }) => e.event_type)
      expect(types.filter((t: string) => t === 'paused')).toHaveLength(1)
      expect(types.filter((t: string) => t === 'cancelled')).toHaveLength(1)
    })

    it('cancels the queued jobs of a cancelled run with it', async () => {
      const run = await createProtocol(api, projectId)
      const job = (await post(`/protocols/${run.id}/actions/start`)).json().job
      await post(`/protocols/${run.id}/actions/cancel`)
      const cancelled = (await api.request('GET', '/queues/jobs?status=cancelled')).json()
      expect(cancelled.map((j: { job_id: string }) => j.job_id)).toContain(job.job_id)
    })

    it('cancels every unfinished step with the run, failed and blocked ones included', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      const failed = await createStep(api, run.id, { step_index: 0, status: 'failed' })
      const done = await createStep(api, run.id, { step_index: 1, status: 'completed' })
      const pending = await createStep(api, run.id, { step_index: 2 })
      await post(`/protocols/${run.id}/actions/cancel`)
      const steps = (await api.request('GET', `/protocols/${run.id}/steps`)).json()
      const byId = Object.fromEntries(steps.map((s: { id: number; status: string }) => [s.id, s.status]))
      expect(byId).toEqual({ [failed.id]: 'cancelled', [done.id]: 'completed', [pending.id]: 'cancelled' })
    })

    it('never revives a cancelled or completed run through step actions', async () => {
      for (const status of ['cancelled', 'completed'] as const) {
        const run = await createProtocol(api, projectId, { status })
        const step = await createStep(api, run.id).catch(() => undefined)
        expect(step).toBeUndefined()
        const next = await post(`/protocols/${run.id}/actions/run_next_step`)
        expect(next.statusCode).toBe(404)
        expect(await statusOf(run.id)).toBe(status)
      }
    })

    it('runs the next runnable step and retries the latest failed one', async () => {
      const run = await createProtocol(api, projectId, { status: 'planned' })
      const first = await createStep(api, run.id, { step_index: 0 })
      await createStep(api, run.id, { step_index: 1 })
      const next = await post(`/protocols/${run.id}/actions/run_next_step`)
      expect(next.json()).toMatchObject({
        message: `Step ${first.step_name} enqueued`,
        job: { job_type: 'execute_step_job', payload: { step_run_id: first.id } },
      })
      expect(await statusOf(run.id)).toBe('running')
      expect((await post(`/protocols/${run.id}/actions/retry_latest`)).json().detail).toBe(
        'No failed or blocked steps to retry',
      )
      const failed = await createStep(api, run.id, { step_index: 5, status: 'failed' })
      // One writer per worktree: while step 0 runs, the retry is refused, naming it.
      const busy = await post(`/protocols/${run.id}/actions/retry_latest`)
      expect(busy.statusCode).toBe(409)
      expect(busy.json()).toMatchObject({ code: 'ORC_RUN_BUSY' })
      expect(busy.json().detail).toContain(`step ${first.id} (${first.step_name})`)
      await api.runtime.deps.repos.steps.compareAndSetStatus(first.id, ['running'], 'failed')
      const retry = await post(`/protocols/${run.id}/actions/retry_latest`)
      expect(retry.json()).toMatchObject({
        message: `Retrying ${failed.step_name}`,
        job: { job_type: 'execute_step_job' },
      })
      expect((await api.request('GET', `/steps/${failed.id}`)).json()).toMatchObject({
        status: 'running',
        retries: 1,
      })
    })

    it('refuses step work on a paused run without touching the step', async () => {
      const run = await createProtocol(api, projectId, { status: 'paused' })
      const step = await createStep(api, run.id)
      const response = await post(`/steps/${step.id}/actions/run`)
      expect(response.statusCode).toBe(409)
      expect(response.json().detail).toBe('Protocol is paused; resume it before running steps')
      expect((await api.request('GET', `/steps/${step.id}`)).json().status).toBe('pending')
    })

    it('says 404 for an empty run on run_next_step and for unknown ids on every run route', async () => {
      const run = await createProtocol(api, projectId)
      expect((await post(`/protocols/${run.id}/actions/run_next_step`)).json().detail).toBe(
        'No pending or failed steps to run',
      )
      for (const path of ['', '/spec', '/steps', '/events']) {
        expect((await api.request('GET', `/protocols/987654${path}`)).statusCode, path).toBe(404)
      }
      for (const action of [
        'start',
        'pause',
        'resume',
        'cancel',
        'run_next_step',
        'retry_latest',
        'open_pr',
      ]) {
        expect((await post(`/protocols/987654/actions/${action}`)).statusCode, action).toBe(404)
      }
    })

    it('serves the spec with its hash and validation summary from spec_meta', async () => {
      const spec = {
        steps: [
          {
            id: '00-step',
            name: '00-step.md',
            engine_id: 'codex',
            prompt_ref: '00-step.md',
            qa: { policy: 'skip' },
          },
        ],
      }
      const run = await createProtocol(api, projectId, {
        template_config: {
          protocol_spec: spec,
          spec_meta: { status: 'valid', errors: [], validated_at: '2026-11-24T00:00:00Z' },
        },
      })
      const response = (await api.request('GET', `/protocols/${run.id}/spec`)).json()
      expect(response).toMatchObject({
        protocol_run_id: run.id,
        spec,
        spec_hash: 'd660e609534d',
        validation_status: 'valid',
        validation_errors: null,
        validated_at: '2026-11-24T00:00:00Z',
      })
      expect((await api.request('GET', `/protocols/${run.id}`)).json().spec_hash).toBe('d660e609534d')
    })

    it('enqueues open_pr with its event, but not for a cancelled run', async () => {
      const run = await createProtocol(api, projectId, { status: 'running' })
      const opened = await post(`/protocols/${run.id}/actions/open_pr`)
      expect(opened.json()).toMatchObject({
        message: 'Open PR/MR enqueued',
        job: { job_type: 'open_pr_job' },
      })
      await post(`/protocols/${run.id}/actions/cancel`)
      expect((await post(`/protocols/${run.id}/actions/open_pr`)).statusCode).toBe(409)
    })
  })
}
