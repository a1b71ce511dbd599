import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'

describe('tasksgodzilla steps', { timeout: 90_000 }, () => {
  let server: CliServer
  let runId: number
  beforeAll(async () => {
    server = await startCliServer()
    const project = await server.api<{ id: number }>('POST', '/projects', {
      name: uniqueName('s'),
      git_url: '/x',
    })
    const run = await server.api<{ id: number }>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0001-steps',
      status: 'running',
    })
    runId = run.id
  })
  afterAll(() => server.close())

  const step = (index: number, status = 'pending') =>
    server.api<{ id: number }>('POST', `/protocols/${runId}/steps`, {
      step_index: index,
      step_name: `${String(index).padStart(2, '0')}-${uniqueName('step')}`,
      step_type: 'work',
      status,
      engine_id: 'codex',
    })

  it('lists and shows steps as tables and JSON', async () => {
    const s = await step(0)
    const [list, json, show] = await Promise.all([
      runCli(['steps', 'list', '--protocol', String(runId)], server.env),
      runCli(['steps', 'list', '--protocol', String(runId), '--json'], server.env),
      runCli(['steps', 'show', String(s.id)], server.env),
    ])
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID\s+Idx\s+Name\s+Status\s+Engine\s+Model\s+Retries\s+Updated$/,
    )
    expect(list.stdout).toMatch(/pending\s+codex/)
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ id: s.id, status: 'pending' })
    expect(show.stdout).toMatch(/Engine: +codex/)
  })

  it('runs, QAs (alias run-qa) and approves a step; a wrong state is a 409 with exit 1', async () => {
    // Each step starts in the state its command needs: the embedded worker moves enqueued steps on.
    const [pending, failed, blocked, completed] = [
      await step(1),
      await step(3, 'failed'),
      await step(4, 'blocked'),
      await step(5, 'completed'),
    ]
    const run = await runCli(['steps', 'run', String(pending.id)], server.env)
    expect(run.stdout).toMatch(/^Step execution enqueued \(job [0-9a-f-]{36}\)\n$/)
    const again = await runCli(['steps', 'run', String(completed.id)], server.env)
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^tasksgodzilla: error: .+ \(HTTP 409\)\n$/)
    const qa = await runCli(['steps', 'run-qa', String(failed.id), '--json'], server.env)
    expect(JSON.parse(qa.stdout)).toMatchObject({ job: { job_type: 'run_quality_job' } })
    const approve = await runCli(['steps', 'approve', String(blocked.id)], server.env)
    expect(approve.stdout).toMatch(/is now completed\.\n$/)
    const qaDone = await runCli(['steps', 'qa', String(completed.id)], server.env)
    expect(qaDone.code).toBe(1)
    expect(qaDone.stderr).toMatch(/\(HTTP 409\)\n$/)
  })

  it('reports an unknown step with the 404 detail', async () => {
    const result = await runCli(['steps', 'show', '987654'], server.env)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^tasksgodzilla: error: .*987654.* \(HTTP 404\)\n$/)
  })

  it('logs and logs --follow answer for a step that is not running, and follow ends by itself', async () => {
    const s = await step(2)
    const [logs, follow] = await Promise.all([
      runCli(['steps', 'logs', String(s.id)], server.env),
      runCli(['steps', 'logs', String(s.id), '--follow'], server.env),
    ])
    expect(logs.code).toBe(0)
    expect(follow.code).toBe(0)
  })
})
