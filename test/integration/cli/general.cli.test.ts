import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { closedPort, startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'

const ENTRY = fileURLToPath(new URL('../../../src/faces/cli/main.ts', import.meta.url))
const hasScript = spawnSync('script', ['--version']).status === 0

describe('tasksgodzilla client: queues, specs, exit codes, help, TTY', { timeout: 90_000 }, () => {
  let server: CliServer
  let projectId: number
  beforeAll(async () => {
    server = await startCliServer()
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', { name: uniqueName('g'), git_url: '/x' })
    ).id
  })
  afterAll(() => server.close())

  it('shows queue stats and jobs as tables and JSON', async () => {
    const [stats, statsJson, jobs, jobsJson] = await Promise.all([
      runCli(['queues', 'stats'], server.env),
      runCli(['queues', 'stats', '--json'], server.env),
      runCli(['queues', 'jobs', '--project', String(projectId)], server.env),
      runCli(['queues', 'jobs', '--json', '--status', 'queued'], server.env),
    ])
    expect(stats.stdout).toMatch(/^Backend: \w+\nQueue\s+queued\s+started\s+finished\s+failed\s+delayed\n/)
    expect(JSON.parse(statsJson.stdout)).toHaveProperty('default.queued')
    expect(jobs.stdout).toMatch(/project_setup_job/)
    expect((JSON.parse(jobsJson.stdout) as { status: string }[]).every((j) => j.status === 'queued')).toBe(
      true,
    )
  })

  it('enqueues a spec audit through the API (specs audit and the original spec validate)', async () => {
    const audit = await runCli(['specs', 'audit', '--project', String(projectId), '--backfill'], server.env)
    expect(audit.stdout).toMatch(/^Spec audit enqueued\.? \(job [0-9a-f-]{36}\)\n$/)
    const validate = await runCli(['spec', 'validate', '--backfill-missing', '--json'], server.env)
    expect(JSON.parse(validate.stdout)).toMatchObject({ job: { job_type: 'spec_audit_job' } })
    const denied = await runCli(['specs', 'audit', '--project', '99999'], server.env)
    expect(denied.code).toBe(1)
  })

  it('exits 3 with one line when the server cannot be reached', async () => {
    const base = `http://127.0.0.1:${await closedPort()}`
    const result = await runCli(['projects', 'list'], { TASKSGODZILLA_API_BASE: base })
    expect(result.code).toBe(3)
    expect(result.stderr).toBe(`tasksgodzilla: cannot reach the API at ${base}: ECONNREFUSED\n`)
    const watch = await runCli(['events', 'watch', '--api-base', base], {})
    expect(watch.code).toBe(3)
  })

  it('sends the bearer token from the environment and reports 401 without it', async () => {
    const secured = await startCliServer({ TASKSGODZILLA_API_TOKEN: 'bearer-secret-123456' })
    try {
      const without = await runCli(['projects', 'list'], secured.env)
      expect(without.code).toBe(1)
      expect(without.stderr).toBe('tasksgodzilla: error: Unauthorized (HTTP 401)\n')
      const withToken = await runCli(['projects', 'list', '--json'], {
        ...secured.env,
        TASKSGODZILLA_API_TOKEN: 'bearer-secret-123456',
      })
      expect(withToken.code).toBe(0)
      expect(withToken.stdout + withToken.stderr).not.toContain('bearer-secret')
    } finally {
      await secured.close()
    }
  })

  it('treats help as success and a bare group, unknown command or bad choice as usage (exit 2)', async () => {
    const [help, bare, unknown, choice] = await Promise.all([
      runCli(['--help'], {}),
      runCli(['projects'], {}),
      runCli(['projcts', 'list'], {}),
      runCli(['completion', 'fish'], {}),
    ])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Exit codes: 0 ok, 1 API error, 2 usage error, 3 cannot reach the server.')
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('Usage: tasksgodzilla projects')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'projcts'")
    expect(choice.code).toBe(2)
  })

  it('prints a bash completion script that bash can load', async () => {
    const result = await runCli(['completion', 'bash'], {})
    expect(result.code).toBe(0)
    execFileSync('bash', ['-n'], { input: result.stdout })
    expect(result.stdout).toContain('complete -F _tasksgodzilla tasksgodzilla')
  })

  it.skipIf(!hasScript)('uses symbols and colour on a terminal and plain text in a pipe', async () => {
    await server.api('POST', `/projects/${projectId}/protocols`, {
      protocol_name: '0001-tty',
      status: 'paused',
    })
    const command = `${process.execPath} --import tsx ${ENTRY} protocols list --project ${projectId}`
    // Asynchronous: the server under test runs in this process and must keep answering.
    const { stdout: tty } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ...server.env },
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    })
    expect(tty).toContain('\u001b[33m‖ paused\u001b[0m')
    const piped = await runCli(['protocols', 'list', '--project', String(projectId)], server.env)
    expect(piped.stdout).toMatch(/0001-tty\s+paused/)
    expect(piped.stdout).not.toContain('\u001b[')
  })

  it.skipIf(!hasScript)(
    'draws the watch board with a progress bar on a terminal and stops at a terminal status',
    async () => {
      const run = await server.api<{ id: number }>('POST', `/projects/${projectId}/protocols`, {
        protocol_name: '0002-board-tty',
        status: 'running',
      })
      await server.api('POST', `/protocols/${run.id}/steps`, {
        step_index: 0,
        step_name: '00-a',
        step_type: 'work',
      })
      await server.api('POST', `/protocols/${run.id}/actions/cancel`)
      const command = `${process.execPath} --import tsx ${ENTRY} protocols watch ${run.id}`
      const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ...server.env },
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      })
      expect(stdout).toContain(`Protocol ${run.id} 0002-board-tty`)
      expect(stdout).toContain(`${'█'.repeat(24)}`)
      expect(stdout).toContain('1/1 steps done')
      expect(stdout).toContain('⊘ cancelled')
    },
  )
})
