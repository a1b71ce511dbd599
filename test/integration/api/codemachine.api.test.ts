import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCodeMachineImportHandler } from '../../../src/app/protocol/codemachine/codemachine-import.job.js'
import { createProject, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'
import { makeLocalRepo } from '../../support/git-repos.js'
import { jobRun, makeJobDeps } from '../../support/protocol-jobs.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/codemachine/', import.meta.url))

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`CodeMachine import API on ${dialect}`, () => {
    let api: TestApi
    let projectId: number
    let root: string
    let projectsRoot: string
    /** The project's own folder: where its checkout of `/srv/repos/demo` is cloned to. */
    let projectFolder: string
    let counter = 0
    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tgz-cm-api-'))
      projectsRoot = join(root, 'projects')
      projectFolder = join(projectsRoot, 'local', 'srv', 'repos', 'demo')
      mkdirSync(projectFolder, { recursive: true })
      api = await openTestApi(dialect, { TASKSGODZILLA_PROJECTS_ROOT: projectsRoot })
      projectId = (await createProject(api)).id
    })
    afterAll(async () => {
      await api.close()
      rmSync(root, { recursive: true, force: true })
    })

    /** A copy of a fixture workspace under the projects root, and a fresh protocol name. */
    const workspace = (fixture: string, base = projectFolder) => {
      counter += 1
      const path = join(base, `${fixture}-${counter}`)
      cpSync(join(FIXTURES, fixture), path, { recursive: true })
      return { path, name: `${String(counter).padStart(4, '0')}-cm-${dialect}` }
    }
    const importWorkspace = (body: Record<string, unknown>, project = projectId) =>
      api.request('POST', `/projects/${project}/codemachine/import`, { body })
    const runsOf = async (project = projectId) =>
      (await api.request('GET', `/projects/${project}/protocols`)).json() as Array<{ protocol_name: string }>
    const eventsOf = async (runId: number) =>
      (await api.request('GET', `/protocols/${runId}/events`)).json() as Array<{
        event_type: string
        metadata: Record<string, unknown>
      }>

    it('imports inline: a planned run with the spec, template and one step per main agent', async () => {
      const ws = workspace('esm-camel')
      const response = await importWorkspace({
        protocol_name: ws.name,
        workspace_path: ws.path,
        description: 'cm',
      })
      expect(response.statusCode).toBe(200)
      const reply = response.json()
      expect(reply).toMatchObject({ message: 'Imported CodeMachine workspace.', job: null })
      expect(reply.protocol_run).toMatchObject({
        protocol_name: ws.name,
        status: 'planned',
        worktree_path: ws.path,
        protocol_root: join(ws.path, '.codemachine'),
        spec_validation_status: 'valid',
        template_source: { name: 'esm-camel' },
      })
      expect(Object.keys(reply.protocol_run.template_config).sort()).toEqual([
        'main_agents',
        'modules',
        'placeholders',
        'protocol_spec',
        'spec_meta',
        'sub_agents',
        'template',
      ])
      const steps = (await api.request('GET', `/protocols/${reply.protocol_run.id}/steps`)).json()
      expect(
        steps.map((s: Record<string, unknown>) => [s.step_name, s.status, s.engine_id, s.model, s.summary]),
      ).toEqual([
        ['00-plan', 'pending', 'command', 'model-a', 'Writes the plan'],
        ['01-build', 'pending', null, null, 'Builds what the plan says'],
        ['02-review', 'pending', 'command', null, null],
      ])
      expect(steps[1].policy.map((p: Record<string, unknown>) => [p.module_id, p.behavior])).toEqual([
        ['check-loop', 'loop'],
        ['notify', 'trigger'],
      ])
      const events = await eventsOf(reply.protocol_run.id)
      const imported = events.find((e) => e.event_type === 'codemachine_imported')
      expect(imported?.metadata).toMatchObject({ steps_created: 3, spec_validated: true, workspace: ws.path })
    })

    it('starts an imported run at its first step instead of planning it, with the start rules', async () => {
      const ws = workspace('esm-camel')
      const run = (await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path })).json()
        .protocol_run
      const post = (action: string) => api.request('POST', `/protocols/${run.id}/actions/${action}`)
      const started = await post('start')
      expect(started.statusCode).toBe(200)
      const job = started.json().job
      expect(started.json()).toMatchObject({
        message: 'Step 00-plan enqueued',
        job: { job_type: 'execute_step_job', status: 'queued' },
      })
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('running')
      const steps = (await api.request('GET', `/protocols/${run.id}/steps`)).json()
      expect(steps.map((s: { status: string }) => s.status)).toEqual(['running', 'pending', 'pending'])
      expect(job.payload).toMatchObject({ step_run_id: steps[0].id })
      const types = (await eventsOf(run.id)).map((e) => e.event_type)
      expect(types).toEqual(expect.arrayContaining(['step_enqueued', 'protocol_running']))
      expect(types).not.toContain('planning_enqueued')
      const queued = (await api.request('GET', '/queues/jobs?status=queued')).json()
      type QueuedJob = { job_id: string; job_type: string; payload: Record<string, unknown> }
      expect(queued.map((j: QueuedJob) => j.job_id)).toContain(job.job_id)
      const planning = queued.filter(
        (j: QueuedJob) => j.job_type === 'plan_protocol_job' && j.payload.protocol_run_id === run.id,
      )
      expect(planning).toEqual([])
      const again = await post('start')
      expect(again.statusCode).toBe(409)
      expect(again.json().detail).toBe('Protocol already running or terminal')
      expect((await post('pause')).statusCode).toBe(200)
      const paused = await post('start')
      expect(paused.statusCode).toBe(409)
      expect(paused.json().detail).toMatch(/resume/)
    })

    it('refuses to start an enqueued import before its job has imported the steps', async () => {
      const ws = workspace('esm-camel')
      const reply = (
        await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path, enqueue: true })
      ).json()
      const started = await api.request('POST', `/protocols/${reply.protocol_run.id}/actions/start`)
      expect(started.statusCode).toBe(409)
      expect((await api.request('GET', `/protocols/${reply.protocol_run.id}`)).json().status).toBe('planning')
    })

    it('refuses a config error with 400 naming file:line:col and creates nothing', async () => {
      for (const fixture of ['function-call', 'malformed', 'escape-relative']) {
        const ws = workspace(fixture)
        const response = await importWorkspace({
          protocol_name: ws.name,
          workspace_path: ws.path,
          enqueue: fixture === 'malformed',
        })
        expect(response.statusCode).toBe(400)
        expect(response.json().detail).toMatch(
          /^Config error: \.codemachine\/config\/main\.agents\.js:\d+:\d+: /,
        )
        expect((await runsOf()).map((run) => run.protocol_name)).not.toContain(ws.name)
      }
    })

    it('answers 400 for a missing workspace and 422 for one outside the repository and projects root', async () => {
      const missing = await importWorkspace({
        protocol_name: '0900-cm-missing',
        workspace_path: join(projectFolder, 'nope'),
      })
      expect(missing.statusCode).toBe(400)
      expect(missing.json().code).toBe('ORC_WORKSPACE_NOT_FOUND')
      const outside = workspace('esm-camel', root)
      const refused = await importWorkspace({ protocol_name: outside.name, workspace_path: outside.path })
      expect(refused.statusCode).toBe(422)
      expect(refused.json().detail).toContain('outside the project')
      const relative = await importWorkspace({ protocol_name: '0901-cm-rel', workspace_path: 'projects/x' })
      expect(relative.statusCode).toBe(422)
      expect((await runsOf()).map((run) => run.protocol_name)).not.toContain(outside.name)
    })

    it('answers the same 422 for any path outside the roots, existing or not, so none can be probed', async () => {
      const elsewhere = join(root, `elsewhere-${dialect}`)
      mkdirSync(join(elsewhere, 'exists'), { recursive: true })
      symlinkSync(elsewhere, join(projectFolder, `link-${dialect}`))
      const probes = [
        [join(elsewhere, 'exists'), join(elsewhere, 'missing')],
        ['/etc', '/no/such/folder/here'],
        [join(projectFolder, `link-${dialect}`, 'exists'), join(projectFolder, `link-${dialect}`, 'missing')],
        [join(projectsRoot, '..', `elsewhere-${dialect}`, 'exists'), join(projectsRoot, '..', 'missing')],
      ]
      for (const [present, absent] of probes) {
        const replies = []
        for (const path of [present!, absent!]) {
          const response = await importWorkspace({ protocol_name: '0902-cm-probe', workspace_path: path })
          const body = response.json()
          replies.push({
            status: response.statusCode,
            code: body.code,
            detail: body.detail.replace(path, '<path>'),
          })
        }
        expect(replies[0]).toMatchObject({ status: 422, code: 'ORC_PATH_OUTSIDE_ROOT' })
        expect(replies[1]).toEqual(replies[0])
      }
      expect((await runsOf()).map((run) => run.protocol_name)).not.toContain('0902-cm-probe')
    })

    it('accepts a workspace inside the project repository (local_path)', async () => {
      const repo = makeLocalRepo(join(root, 'elsewhere', `repo-${dialect}`))
      const project = await createProject(api, { git_url: repo, local_path: repo })
      const ws = workspace('cjs-snake', repo)
      const response = await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path }, project.id)
      expect(response.statusCode).toBe(200)
      expect(response.json().protocol_run).toMatchObject({ status: 'planned', protocol_root: ws.path })
    })

    it('validates the protocol name (422) and refuses a duplicate (409)', async () => {
      const ws = workspace('esm-camel')
      const bad = await importWorkspace({ protocol_name: '../x', workspace_path: ws.path })
      expect(bad.statusCode).toBe(422)
      expect((await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path })).statusCode).toBe(
        200,
      )
      const again = await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path })
      expect(again.statusCode).toBe(409)
    })

    it('blocks the run on spec validation errors (missing prompt file), with the errors recorded', async () => {
      const ws = workspace('missing-prompt')
      const response = await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path })
      expect(response.statusCode).toBe(200)
      const run = response.json().protocol_run
      expect(run).toMatchObject({ status: 'blocked', spec_validation_status: 'invalid' })
      expect((await api.request('GET', `/protocols/${run.id}/steps`)).json()).toEqual([])
      const event = (await eventsOf(run.id)).find((e) => e.event_type === 'spec_validation_error')
      expect(event?.metadata.errors).toEqual([expect.stringContaining('00-ghost: prompt_ref missing')])
      // Nothing to start: no planning job either, the run stays blocked.
      const started = await api.request('POST', `/protocols/${run.id}/actions/start`)
      expect(started.statusCode).toBe(404)
      expect(started.json().code).toBe('ORC_NOTHING_TO_RUN')
      expect((await api.request('GET', `/protocols/${run.id}`)).json().status).toBe('blocked')
    })

    it('enqueues the import: planning run, job and event; the job then imports it', async () => {
      const ws = workspace('esm-camel')
      const response = await importWorkspace({
        protocol_name: ws.name,
        workspace_path: ws.path,
        enqueue: true,
      })
      expect(response.statusCode).toBe(200)
      const reply = response.json()
      expect(reply).toMatchObject({
        message: 'Enqueued CodeMachine import job.',
        protocol_run: { status: 'planning' },
      })
      expect(reply.job).toMatchObject({ job_type: 'codemachine_import_job' })
      const enqueued = (await eventsOf(reply.protocol_run.id)).find(
        (e) => e.event_type === 'codemachine_import_enqueued',
      )
      expect(enqueued?.metadata).toMatchObject({ job_id: reply.job.job_id, workspace: ws.path })
      const handler = createCodeMachineImportHandler(makeJobDeps(api.runtime.database, root))
      const payload = {
        project_id: projectId,
        protocol_run_id: reply.protocol_run.id,
        workspace_path: ws.path,
        job_id: 'cm-import',
      }
      await handler(payload, jobRun())
      const run = (await api.request('GET', `/protocols/${reply.protocol_run.id}`)).json()
      expect(run).toMatchObject({ status: 'planned', spec_validation_status: 'valid' })
      expect((await api.request('GET', `/protocols/${run.id}/steps`)).json()).toHaveLength(3)
      expect(await handler(payload, jobRun())).toEqual({ skipped: 'run is planned' })
    })

    it('fails the job without retry and blocks the run when the workspace broke after enqueueing', async () => {
      const ws = workspace('esm-camel')
      const reply = (
        await importWorkspace({ protocol_name: ws.name, workspace_path: ws.path, enqueue: true })
      ).json()
      cpSync(
        join(FIXTURES, 'function-call', '.codemachine', 'config'),
        join(ws.path, '.codemachine', 'config'),
        {
          recursive: true,
        },
      )
      const handler = createCodeMachineImportHandler(makeJobDeps(api.runtime.database, root))
      const payload = {
        project_id: projectId,
        protocol_run_id: reply.protocol_run.id,
        workspace_path: ws.path,
        job_id: 'cm-import',
      }
      await expect(handler(payload, jobRun())).rejects.toMatchObject({ name: 'PermanentJobError' })
      const run = (await api.request('GET', `/protocols/${reply.protocol_run.id}`)).json()
      expect(run.status).toBe('blocked')
      const failed = (await eventsOf(run.id)).find((e) => e.event_type === 'codemachine_import_failed')
      expect(failed).toBeDefined()
    })

    it('requires the project token like every project route', async () => {
      const guarded = await createProject(api, { secrets: { api_token: 'cm-secret-token' } })
      const ws = workspace('esm-camel')
      const body = { protocol_name: ws.name, workspace_path: ws.path, job_id: 'cm-import' }
      expect((await importWorkspace(body, guarded.id)).statusCode).toBe(401)
      const ok = await api.request('POST', `/projects/${guarded.id}/codemachine/import`, {
        body,
        headers: { 'x-project-token': 'cm-secret-token' },
      })
      expect(ok.statusCode).toBe(200)
    })
  })
}
