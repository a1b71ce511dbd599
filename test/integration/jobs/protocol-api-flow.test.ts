import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createProtocolJobHandlers } from '../../../src/app/protocol/protocol-handlers.js'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { createProtocolJobDeps, startServer, type RunningServer } from '../../../src/composition/index.js'
import { silentStream } from '../../support/api.js'
import { git, makeLocalRepo, removeDir, tempDir } from '../../support/git-repos.js'

const RECORDING_AGENT = fileURLToPath(new URL('../../fixtures/agents/recording-agent.mjs', import.meta.url))

interface Step {
  readonly id: number
  readonly step_name: string
  readonly status: string
  readonly retries: number
}

describe('a protocol through the API, the embedded queue and the real handlers', () => {
  const dir = tempDir('tgz-api-flow-')
  let running: RunningServer | undefined
  afterAll(async () => {
    await running?.stop()
    removeDir(dir)
  })

  it('plans, executes three steps, blocks on a QA FAIL, and completes after retry_latest', async () => {
    const record = join(dir, 'prompts')
    const env = {
      TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'),
      TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
      TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
      TASKSGODZILLA_COMMAND_ENGINE: RECORDING_AGENT,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--record=${record},--qa-fail-first=01-build.md`,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
      TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '50',
    }
    const config = loadConfig(env, dir)
    running = await startServer(config, createLogger(config, silentStream()), { port: 0 }, (runtime) => ({
      makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
    }))
    const base = running.address
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      expect(response.ok, `${method} ${path}: ${response.status}`).toBe(true)
      return (await response.json()) as T
    }
    const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 60_000
      for (;;) {
        const value = await read()
        if (done(value) || Date.now() > deadline) return value
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    const repo = makeLocalRepo(join(dir, 'repo'))
    const project = await call<{ id: number }>('POST', '/projects', {
      name: 'api-flow',
      git_url: repo,
      local_path: repo,
    })
    const run = await call<{ id: number }>('POST', `/projects/${project.id}/protocols`, {
      protocol_name: '0001-flow',
      description: 'Exercise the whole flow',
    })
    const status = () => call<{ status: string }>('GET', `/protocols/${run.id}`).then((r) => r.status)
    const steps = () => call<Step[]>('GET', `/protocols/${run.id}/steps`)
    await call('POST', `/protocols/${run.id}/actions/start`, {})
    expect(await until(status, (s) => s !== 'planning')).toBe('planned')
    expect((await steps()).map((s) => s.step_name)).toEqual(['00-setup.md', '01-build.md', '02-polish.md'])

    // Step 00 passes; step 01 fails its first review, which blocks the run.
    await call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
    await until(steps, (list) => list[0]!.status === 'completed')
    await call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
    expect(await until(status, (s) => s === 'blocked')).toBe('blocked')
    expect((await steps())[1]).toMatchObject({ status: 'failed', retries: 0 })

    // retry_latest re-executes step 01 (told what the reviewer found), QA passes this time.
    const retry = await call<{ message: string }>('POST', `/protocols/${run.id}/actions/retry_latest`, {})
    expect(retry.message).toBe('Retrying 01-build.md')
    await until(steps, (list) => list[1]!.status === 'completed')
    expect((await steps())[1]).toMatchObject({ status: 'completed', retries: 1 })
    const executePrompts = readdirSync(record)
      .filter((file) => file.endsWith('-execute.txt'))
      .sort()
      .map((file) => readFileSync(join(record, file), 'utf8'))
    expect(executePrompts).toHaveLength(3)
    expect(executePrompts[2]).toContain('Step file: 01-build.md')
    expect(executePrompts[2]).toContain('## QA report on the previous attempt (verdict FAIL)')

    await call('POST', `/protocols/${run.id}/actions/run_next_step`, {})
    expect(await until(status, (s) => s === 'completed')).toBe('completed')
    expect((await steps()).map((s) => s.status)).toEqual(['completed', 'completed', 'completed'])
    const worktree = join(dir, 'worktrees', '0001-flow')
    const subjects = git(worktree, 'log', '--format=%s').trim().split('\n')
    expect(subjects.filter((s) => s === '[protocol-0001/01] Execute 01-build.md')).toHaveLength(2)
    const events = await call<Array<{ event_type: string }>>('GET', `/protocols/${run.id}/events`)
    const types = events.map((e) => e.event_type)
    expect(types).toEqual(
      expect.arrayContaining(['planned', 'qa_failed', 'step_retry_enqueued', 'qa_passed']),
    )
    expect(types).toContain('protocol_completed')
  })
})
