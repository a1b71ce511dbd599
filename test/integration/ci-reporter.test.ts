import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CI_RUN_SHA, serveCiRun as serve, type ServedCiRun } from '../support/ci-run.js'

const SCRIPT = fileURLToPath(new URL('../../scripts/ci/report.sh', import.meta.url))
const SHA = CI_RUN_SHA

/** Runs the script asynchronously: the server answering it lives in this very process. */
const report = (status: string, env: Record<string, string>): Promise<{ status: number; stdout: string }> =>
  new Promise((resolve) => {
    const fullEnv = {
      PATH: process.env.PATH ?? '',
      TASKSGODZILLA_BRANCH: '0007-reporter',
      TASKSGODZILLA_COMMIT_SHA: SHA,
      ...env,
    }
    execFile('sh', [SCRIPT, status], { env: fullEnv, timeout: 30_000 }, (error, stdout) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout }),
    )
  })

describe('scripts/ci/report.sh against a running server', () => {
  let server: ServedCiRun | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('does nothing without TASKSGODZILLA_API_BASE', async () => {
    const result = await report('failure', {})
    expect(result.status).toBe(0)
    expect(result.stdout).toBe('')
  })

  it('reports a GitHub-style failure signed with the webhook secret, with the log tail attached', async () => {
    server = await serve({ TASKSGODZILLA_WEBHOOK_TOKEN: 'report-secret' })
    const log = join(server.dir, 'ci.log')
    writeFileSync(log, 'step 1 ok\nAssertionError: "expected" 1\tto be 2\n')
    const base = {
      TASKSGODZILLA_API_BASE: server.running.address,
      TASKSGODZILLA_CI_LOG_FILE: log,
      TASKSGODZILLA_TARGET_URL: 'https://ci/1',
    }
    const unsigned = await report('failure', base)
    expect(unsigned.status).not.toBe(0)
    const signed = await report('failure', { ...base, TASKSGODZILLA_WEBHOOK_TOKEN: 'report-secret' })
    expect(signed.stdout).toContain('Webhook recorded')
    const step = await server.running.runtime.deps.repos.steps.findById(server.stepId)
    expect(step).toMatchObject({
      status: 'failed',
      runtimeState: {
        ci_failure: { url: 'https://ci/1', log_excerpt: 'step 1 ok\nAssertionError: "expected" 1\tto be 2' },
      },
    })
    expect((await server.running.runtime.deps.repos.runs.findById(server.runId))?.status).toBe('blocked')
  })

  it('reports a GitLab pipeline with the token, and works unsigned where the server allows it', async () => {
    server = await serve({ TASKSGODZILLA_WEBHOOK_ALLOW_UNSIGNED: 'true' })
    const result = await report('success', {
      TASKSGODZILLA_API_BASE: server.running.address,
      TASKSGODZILLA_CI_PROVIDER: 'gitlab',
    })
    expect(result.stdout).toContain('Webhook recorded')
    const step = await server.running.runtime.deps.repos.steps.findById(server.stepId)
    expect(step).toMatchObject({ status: 'completed', summary: 'CI passed' })
  })
})
