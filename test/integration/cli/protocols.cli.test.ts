import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'

let counter = 0
const runName = (): string => `${String(++counter).padStart(4, '0')}-${uniqueName('task')}`

describe('tasksgodzilla protocols', { timeout: 90_000 }, () => {
  let server: CliServer
  let projectId: number
  beforeAll(async () => {
    server = await startCliServer()
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', { name: uniqueName('p'), git_url: '/x' })
    ).id
  })
  afterAll(() => server.close())

  const create = async (status = 'pending') =>
    server.api<{ id: number; protocol_name: string }>('POST', `/projects/${projectId}/protocols`, {
      protocol_name: runName(),
      status,
    })

  it('creates a run, lists it and shows it, as text and JSON', async () => {
    const name = runName()
    const created = await runCli(
      [
        'protocols',
        'create',
        '--project',
        String(projectId),
        '--name',
        name,
        '--description',
        'Do it',
        '--json',
      ],
      server.env,
    )
    expect(created.code).toBe(0)
    const run = JSON.parse(created.stdout) as { id: number; status: string }
    expect(run).toMatchObject({ protocol_name: name, status: 'pending', description: 'Do it' })

    const [list, show, spec] = await Promise.all([
      runCli(['protocols', 'list', '--project', String(projectId)], server.env),
      runCli(['protocols', 'show', String(run.id)], server.env),
      runCli(['protocols', 'spec', String(run.id), '--json'], server.env),
    ])
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+Name\s+Status\s+Base\s+Spec\s+SpecValid\s+Updated$/)
    expect(list.stdout).toMatch(new RegExp(`${name}\\s+pending`))
    expect(show.stdout).toMatch(/Status: +pending/)
    expect(JSON.parse(spec.stdout)).toMatchObject({ protocol_run_id: run.id, protocol_name: name })
  })

  it('create-and-start creates the run and enqueues planning in one command', async () => {
    const result = await runCli(
      ['protocols', 'create-and-start', '--project', String(projectId), '--name', runName()],
      server.env,
    )
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(
      /^Created protocol \d+ \(.+\); Protocol planning enqueued \(job [0-9a-f-]{36}\)\.\n$/,
    )
  })

  it('pauses, resumes and cancels a run, and reports the new status', async () => {
    const run = await create('running')
    const pause = await runCli(['protocols', 'pause', String(run.id)], server.env)
    expect(pause.stdout).toBe(`Protocol ${run.id} (${run.protocol_name}) is now paused.\n`)
    const resume = await runCli(['protocols', 'resume', String(run.id), '--json'], server.env)
    expect(JSON.parse(resume.stdout)).toMatchObject({ id: run.id, status: 'running' })
    const cancel = await runCli(['protocols', 'cancel', String(run.id)], server.env)
    expect(cancel.stdout).toContain('is now cancelled')
  })

  it('answers a 409 with the detail and exit code 1', async () => {
    const run = await create('pending')
    const result = await runCli(['protocols', 'resume', String(run.id)], server.env)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^tasksgodzilla: error: .+ \(HTTP 409\)\n$/)
  })

  it('run-next, retry (alias retry-latest) and open-pr call the real action routes', async () => {
    const run = await create('planned')
    await server.api('POST', `/protocols/${run.id}/steps`, {
      step_index: 0,
      step_name: '00-a',
      step_type: 'work',
    })
    // A second run whose only step is done: nothing to retry, whatever the embedded worker does.
    const done = await create('running')
    await server.api('POST', `/protocols/${done.id}/steps`, {
      step_index: 0,
      step_name: '00-done',
      step_type: 'work',
      status: 'completed',
    })
    const [next, retry, alias, pr] = [
      await runCli(['protocols', 'run-next', String(run.id)], server.env),
      await runCli(['protocols', 'retry', String(done.id)], server.env),
      await runCli(['protocols', 'retry-latest', String(done.id)], server.env),
      await runCli(['protocols', 'open-pr', String(run.id), '--json'], server.env),
    ]
    expect(next.code).toBe(0)
    expect(next.stdout).toMatch(/^Step 00-a enqueued \(job [0-9a-f-]{36}\)\n$/)
    expect(retry.code).toBe(1) // nothing failed or blocked
    expect(retry.stderr).toMatch(/\(HTTP 404\)\n$/)
    expect(alias.stderr).toBe(retry.stderr)
    expect(JSON.parse(pr.stdout)).toMatchObject({ job: { job_type: 'open_pr_job' } })
  })

  it('import-codemachine and codemachine import reach the API and print its answer', async () => {
    const args = ['--project', String(projectId), '--name', runName(), '--workspace-path', '/nonexistent/cm']
    const [a, b] = await Promise.all([
      runCli(['protocols', 'import-codemachine', ...args], server.env),
      runCli(['codemachine', 'import', ...args.slice(0, 3), runName(), ...args.slice(4)], server.env),
    ])
    for (const result of [a, b]) {
      expect(result.stderr).not.toContain('    at ')
      if (result.code === 0) expect(result.stdout).toMatch(/Protocol \d+/)
      else expect(result.stderr).toMatch(/^tasksgodzilla: error: .+ \(HTTP \d{3}\)\n$/)
    }
    expect(a.code).toBe(b.code)
  })

  it('needs --project for list (usage error, exit 2)', async () => {
    const result = await runCli(['protocols', 'list'], server.env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("required option '--project <id>' not specified")
  })
})
