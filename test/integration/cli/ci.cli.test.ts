import { execFile } from 'node:child_process'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../support/cli.js'
import { closedPort, startCliServer, uniqueName } from '../../support/cli-server.js'
import { MISSING_WORKFLOW, startFakeCodeHost } from '../../support/fake-code-host.js'
import { CI_RUN_SHA, serveCiRun, type ServedCiRun } from '../../support/ci-run.js'
import { git, removeDir, tempDir } from '../../support/git-repos.js'

const SCRIPT = fileURLToPath(new URL('../../../scripts/ci/report.sh', import.meta.url))

interface Captured {
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A receiver that records every request and answers like the webhook routes. */
const startCapture = async () => {
  const seen: Captured[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"message":"Webhook recorded","job":null}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The script, run asynchronously (a server in this process answers it). */
const runScript = (args: string[], env: Record<string, string>): Promise<number> =>
  new Promise((resolve) => {
    execFile('sh', [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (error) =>
      resolve(error ? Number(error.code ?? 1) : 0),
    )
  })

/** What must be identical between the script's request and the CLI's. */
const wire = (c: Captured | undefined) => ({
  url: c?.url,
  body: c?.body,
  event: c?.headers['x-github-event'] ?? c?.headers['x-gitlab-event'],
  signature: c?.headers['x-hub-signature-256'],
  token: c?.headers['x-gitlab-token'],
  authorization: c?.headers.authorization,
  contentType: c?.headers['content-type'],
})

describe('tasksgodzilla ci report', { timeout: 90_000 }, () => {
  let capture: Awaited<ReturnType<typeof startCapture>>
  let dir: string
  beforeAll(async () => {
    capture = await startCapture()
    dir = tempDir('tgz-ci-report-')
  })
  afterAll(async () => {
    await capture.close()
    removeDir(dir)
  })

  it.each(['github', 'gitlab'])(
    'sends byte for byte what scripts/ci/report.sh sends (%s), hostile branch and log included',
    async (provider) => {
      const log = join(dir, `${provider}.log`)
      const lines = Array.from({ length: 230 }, (_, i) => `line ${i}: "quoted" \\ back\tslash\u0007 bell\r`)
      writeFileSync(log, `${lines.join('\n')}\n`)
      const env = {
        TASKSGODZILLA_API_BASE: `${capture.base}/`,
        TASKSGODZILLA_CI_PROVIDER: provider.toUpperCase(),
        TASKSGODZILLA_WEBHOOK_TOKEN: 'report-secret',
        TASKSGODZILLA_API_TOKEN: 'api-secret',
        TASKSGODZILLA_PROTOCOL_RUN_ID: '42',
        TASKSGODZILLA_BRANCH: 'feat/"x"},"state":"success',
        GITHUB_SHA: CI_RUN_SHA,
        GITHUB_SERVER_URL: 'https://github.example.com',
        GITHUB_REPOSITORY: 'acme/widgets',
        GITHUB_RUN_ID: '991',
        TASKSGODZILLA_CI_LOG_FILE: log,
      }
      const before = capture.seen.length
      expect(await runScript(['failure'], env)).toBe(0)
      const cli = await runCli(['ci', 'report', 'failure'], env)
      expect(cli.code).toBe(0)
      const [fromScript, fromCli] = capture.seen.slice(before)
      expect(wire(fromCli)).toEqual(wire(fromScript))
      const body = JSON.parse(fromCli!.body) as Record<string, unknown>
      const excerpt = JSON.stringify(body).match(/"log_excerpt":("(?:[^"\\]|\\.)*")/)![1]!
      const text = JSON.parse(excerpt) as string
      expect(text.split('\n')).toHaveLength(200)
      expect(text.split('\n')[0]).toBe('line 30: "quoted" \\ back\tslash bell\r')
      expect(fromCli!.url).toBe(`/webhooks/${provider}?protocol_run_id=42`)
      expect(JSON.stringify(body)).toContain('https://github.example.com/acme/widgets/actions/runs/991')
      expect(provider === 'github' ? body.ref : (body.object_attributes as { ref: string }).ref).toBe(
        'feat/"x"},"state":"success',
      )
    },
  )

  it('takes the branch and commit from git, and the status default, like the script', async () => {
    const repo = join(dir, 'checkout')
    git(dir, 'init', '-q', '-b', 'feature-x', repo)
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'c')
    // GIT_DIR points both at the checkout (the CLI runs from the project root, where tsx resolves).
    const env = { TASKSGODZILLA_API_BASE: capture.base, GIT_DIR: join(repo, '.git') }
    const before = capture.seen.length
    expect(await runScript([], env)).toBe(0)
    expect((await runCli(['ci', 'report'], env)).code).toBe(0)
    const [fromScript, fromCli] = capture.seen.slice(before)
    expect(wire(fromCli)).toEqual(wire(fromScript))
    expect(JSON.parse(fromCli!.body)).toMatchObject({
      state: 'success',
      ref: 'feature-x',
      sha: git(repo, 'rev-parse', 'HEAD').trim(),
    })
  })

  it('skips without an API base, refuses an unknown provider, and reports an unreachable server', async () => {
    const before = capture.seen.length
    const skipped = await runCli(['ci', 'report', 'failure'], {})
    expect(skipped).toMatchObject({ code: 0, stdout: '' })
    expect(skipped.stderr).toContain('CI report skipped: TASKSGODZILLA_API_BASE is not set')
    const env = { TASKSGODZILLA_API_BASE: capture.base, TASKSGODZILLA_CI_PROVIDER: 'bitbucket' }
    const unknown = await runCli(['ci', 'report'], env)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('unknown CI provider "bitbucket"')
    expect(await runScript([], env)).toBe(2)
    expect(capture.seen.length).toBe(before)
    const down = { TASKSGODZILLA_API_BASE: `http://127.0.0.1:${await closedPort()}` }
    expect((await runCli(['ci', 'report', 'failure'], down)).code).toBe(3)
    const tolerant = await runCli(['ci', 'report', 'failure', '--best-effort'], down)
    expect(tolerant.code).toBe(0)
    expect(tolerant.stderr).toContain('warning: CI report not delivered: cannot reach the API')
  })
})

describe('tasksgodzilla ci report against a running server', { timeout: 90_000 }, () => {
  let server: ServedCiRun | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('fails the step with the log attached when signed, and exits 1 (or warns) when refused', async () => {
    server = await serveCiRun({ TASKSGODZILLA_WEBHOOK_TOKEN: 'report-secret' })
    const log = join(server.dir, 'ci.log')
    writeFileSync(log, 'step 1 ok\nAssertionError: expected 1 to be 2\n')
    const env = {
      TASKSGODZILLA_API_BASE: server.running.address,
      TASKSGODZILLA_BRANCH: '0007-reporter',
      TASKSGODZILLA_COMMIT_SHA: CI_RUN_SHA,
    }
    const refused = await runCli(['ci', 'report', 'failure'], {
      ...env,
      TASKSGODZILLA_WEBHOOK_TOKEN: 'wrong',
    })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe('tasksgodzilla: error: Invalid webhook signature (HTTP 401)\n')
    const tolerated = await runCli(['ci', 'report', 'failure', '--best-effort'], env)
    expect(tolerated.code).toBe(0)
    expect(tolerated.stderr).toContain('warning: CI report not delivered: Invalid webhook signature')
    expect((await server.step())?.status).toBe('running')

    const signed = await runCli(
      ['ci', 'report', 'failure', '--log-file', log, '--target-url', 'https://ci/7'],
      { ...env, TASKSGODZILLA_WEBHOOK_TOKEN: 'report-secret' },
    )
    expect(signed).toMatchObject({
      code: 0,
      stdout: 'Webhook recorded: failure on 0007-reporter (github).\n',
    })
    expect(await server.step()).toMatchObject({
      status: 'failed',
      runtimeState: {
        ci_failure: { url: 'https://ci/7', log_excerpt: 'step 1 ok\nAssertionError: expected 1 to be 2' },
      },
    })
    expect((await server.run())?.status).toBe('blocked')
  })

  it('reports a GitLab pipeline with the token to the run named by --run', async () => {
    server = await serveCiRun({ TASKSGODZILLA_WEBHOOK_TOKEN: 'gl-secret' })
    const result = await runCli(
      ['ci', 'report', 'success', '--provider', 'gitlab', '--run', String(server.runId), '--json'],
      {
        TASKSGODZILLA_API_BASE: server.running.address,
        TASKSGODZILLA_WEBHOOK_TOKEN: 'gl-secret',
        TASKSGODZILLA_BRANCH: 'some-other-branch',
        TASKSGODZILLA_COMMIT_SHA: CI_RUN_SHA,
      },
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ message: 'Webhook recorded' })
    expect(await server.step()).toMatchObject({ status: 'completed', summary: 'CI passed' })
  })
})

describe('tasksgodzilla ci trigger', { timeout: 90_000 }, () => {
  it("triggers the run's CI through the server and exits 1 with the host's refusal", async () => {
    const host = await startFakeCodeHost()
    const server = await startCliServer({ GITHUB_TOKEN: 'gh-secret', TASKSGODZILLA_GITHUB_API_URL: host.url })
    try {
      const project = await server.api<{ id: number }>('POST', '/projects', {
        name: uniqueName('ci'),
        git_url: 'https://github.com/acme/widgets.git',
      })
      const name = `0009-${uniqueName('trigger')}`
      const run = await server.api<{ id: number }>('POST', `/projects/${project.id}/protocols`, {
        protocol_name: name,
      })
      const ok = await runCli(['ci', 'trigger', String(run.id)], server.env)
      expect(ok).toMatchObject({ code: 0, stdout: `CI workflow ci.yml triggered on ${name} (github api).\n` })
      const json = await runCli(
        ['ci', 'trigger', String(run.id), '--workflow', 'lint.yml', '--json'],
        server.env,
      )
      expect(JSON.parse(json.stdout)).toMatchObject({ workflow: 'lint.yml', ref: name, via: 'api' })
      expect(host.pipelines.map((p) => p.workflow)).toEqual(['ci.yml', 'lint.yml'])
      const refused = await runCli(
        ['ci', 'trigger', String(run.id), '--workflow', MISSING_WORKFLOW],
        server.env,
      )
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(
        new RegExp(`^tasksgodzilla: error: Could not trigger CI on ${name}: .*\\(HTTP 502\\)\\n$`),
      )
      expect((await runCli(['ci', 'trigger', 'abc'], server.env)).code).toBe(2)
    } finally {
      await server.close()
      await host.close()
    }
  })
})
