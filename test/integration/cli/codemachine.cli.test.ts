import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { startCliServer, uniqueName, type CliServer } from '../../support/cli-server.js'
import { tempDir } from '../../support/git-repos.js'
import { waitFor } from '../../support/queue-harness.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/codemachine/', import.meta.url))
const AGENT = fileURLToPath(new URL('../../fixtures/agents/codemachine-agent.mjs', import.meta.url))

interface Run {
  id: number
  status: string
}

describe('tasksgodzilla codemachine import against a real server', { timeout: 90_000 }, () => {
  let server: CliServer
  let projectsRoot: string
  let projectId: number
  let counter = 0
  beforeAll(async () => {
    projectsRoot = tempDir('tgz-cm-cli-')
    mkdirSync(projectsRoot, { recursive: true })
    server = await startCliServer({
      TASKSGODZILLA_PROJECTS_ROOT: projectsRoot,
      TASKSGODZILLA_COMMAND_ENGINE: AGENT,
      TASKSGODZILLA_LOGS_DIR: join(projectsRoot, 'logs'),
    })
    projectId = (
      await server.api<{ id: number }>('POST', '/projects', { name: uniqueName('cm'), git_url: '/x' })
    ).id
  })
  afterAll(async () => {
    await server.close()
    rmSync(projectsRoot, { recursive: true, force: true })
  })

  const workspace = (fixture: string) => {
    counter += 1
    // Inside the project's own folder: where its checkout of `/x` lives under the projects root.
    const path = join(projectsRoot, 'local', 'x', `${fixture}-${counter}`)
    cpSync(join(FIXTURES, fixture), path, { recursive: true })
    return { path, name: `${String(counter).padStart(4, '0')}-cm` }
  }
  const args = (ws: { path: string; name: string }) => [
    '--project',
    String(projectId),
    '--name',
    ws.name,
    '--workspace-path',
    ws.path,
  ]
  const runOf = (id: number) => server.api<Run>('GET', `/protocols/${id}`)

  it('imports inline and prints the planned run', async () => {
    const ws = workspace('esm-camel')
    const result = await runCli(['protocols', 'import-codemachine', ...args(ws)], server.env)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(
      new RegExp(`^Imported CodeMachine workspace\\. Protocol \\d+ \\(${ws.name}\\) is planned\\.\\n$`),
    )
  })

  it('prints the config error with file:line:col and exits non-zero', async () => {
    const ws = workspace('function-call')
    const result = await runCli(['codemachine', 'import', ...args(ws)], server.env)
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(
      'Config error: .codemachine/config/main.agents.js:2:26: unsupported function call',
    )
    expect(result.stderr).toContain('(HTTP 400)')
  })

  it('enqueues the import, the worker imports it, and its steps run to a completed run', async () => {
    const ws = workspace('esm-camel')
    const result = await runCli(['codemachine', 'import', ...args(ws), '--enqueue', '--json'], server.env)
    expect(result.code).toBe(0)
    const reply = JSON.parse(result.stdout) as { protocol_run: Run; message: string }
    expect(reply.message).toBe('Enqueued CodeMachine import job.')
    const runId = reply.protocol_run.id
    await waitFor(async () => (await runOf(runId)).status === 'planned', 20_000, 'the import job')
    for (let step = 0; step < 3; step++) {
      await server.api('POST', `/protocols/${runId}/actions/run_next_step`)
      await waitFor(
        async () => {
          const steps = await server.api<Array<{ status: string }>>('GET', `/protocols/${runId}/steps`)
          return steps[step]?.status === 'completed'
        },
        20_000,
        `step ${step}`,
      )
    }
    await waitFor(async () => (await runOf(runId)).status === 'completed', 20_000, 'the run to complete')
    const output = readFileSync(join(ws.path, '.protocols', ws.name, '02-review.md'), 'utf8')
    expect(output).toContain('# Review it')
    expect(output).toContain('# Specification')
  })
})
