import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { startServer, type RunningServer } from '../../../src/composition/index.js'
import { until, type EventOut, type StepOut } from '../../support/agent-runs.js'
import { silentStream } from '../../support/api.js'
import {
  createTestDatabase,
  unavailable,
  type TestDatabase,
  type TestDialect,
} from '../../support/databases.js'
import { unique } from '../../support/fixtures.js'
import { git, makeLocalRepo, removeDir, tempDir } from '../../support/git-repos.js'
import {
  backendUnavailable,
  dbEnv,
  deletePrefix,
  REDIS_URL,
  type TestBackend,
} from '../../support/queue-harness.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const WORKER = fileURLToPath(new URL('../../support/agent-worker.process.ts', import.meta.url))
const HALFWAY_AGENT = fileURLToPath(new URL('../../fixtures/agents/halfway-agent.mjs', import.meta.url))

/** Real processes, killed for real; Redis workers run against Postgres (the scaled set-up). */
const SETUPS: Array<[TestBackend, TestDialect]> = [
  ['embedded', 'sqlite'],
  ['embedded', 'postgres'],
  ['redis', 'postgres'],
]

const spawnWorker = async (env: Record<string, string>): Promise<ChildProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await until(async () => output.includes('ready') || child.exitCode !== null, 30_000, 'the worker to start')
  if (child.exitCode !== null) throw new Error(`worker did not start:\n${output}`)
  return child
}

describe.each(SETUPS)('a worker killed mid-step on the %s queue with %s', (backend, dialect) => {
  const children: ChildProcess[] = []
  let server: RunningServer | undefined
  let database: TestDatabase | undefined
  let dir: string | undefined
  let prefix: string | undefined
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
    await server?.stop()
    await database?.drop()
    if (prefix) await deletePrefix(prefix)
    if (dir) removeDir(dir)
  })

  it.skipIf(unavailable(dialect) || backendUnavailable(backend))(
    'leaves the next attempt the half-done worktree, tells it so, and commits both halves once',
    async () => {
      dir = tempDir('tgz-agent-crash-')
      database = await createTestDatabase(dialect)
      const repo = makeLocalRepo(join(dir, 'repo'))
      prefix = backend === 'redis' ? `tgzq-${unique()}` : undefined
      const env: Record<string, string> = {
        ...dbEnv(database.target),
        TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
        TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
        TASKSGODZILLA_COMMAND_ENGINE: HALFWAY_AGENT,
        TASKSGODZILLA_COMMAND_ENGINE_ARGS: `--state=${join(dir, 'agent')}`,
        TASKSGODZILLA_DEFAULT_ENGINE: 'command',
        TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '50',
        TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '200',
        TASKSGODZILLA_LOG_LEVEL: 'warn',
        HARNESS_ROLE: backend === 'redis' ? 'worker' : 'embedded',
        ...(backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL!, HARNESS_PREFIX: prefix! } : {}),
      }
      const config = loadConfig(env, dir)
      server = await startServer(config, createLogger(config, silentStream()), { port: 0, runJobs: false })
      const base = server.address
      const call = async (method: string, path: string, body: unknown = {}) =>
        (await fetch(`${base}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json())) as { id: number }
      const read = async <T>(path: string) => (await (await fetch(`${base}${path}`)).json()) as T
      children.push(await spawnWorker(env))

      const project = await call('POST', '/projects', {
        name: `crash-${unique()}`,
        git_url: repo,
        local_path: repo,
      })
      const run = await call('POST', `/projects/${project.id}/protocols`, { protocol_name: '0001-crash' })
      await call('POST', `/protocols/${run.id}/actions/start`)
      await until(
        async () => (await read<{ status: string }>(`/protocols/${run.id}`)).status === 'planned',
        60_000,
      )
      const [step] = await read<StepOut[]>(`/protocols/${run.id}/steps`)
      await call('POST', `/steps/${step!.id}/actions/run`)
      const worktree = join(dir, 'worktrees', '0001-crash')
      await until(async () => existsSync(join(worktree, 'work', 'part-1.txt')), 60_000, 'the first half')

      children[0]!.kill('SIGKILL')
      children.push(await spawnWorker(env))
      const stepStatus = async () => (await read<StepOut[]>(`/protocols/${run.id}/steps`))[0]!.status
      await until(async () => (await stepStatus()) === 'needs_qa', 60_000, 'the step to finish')

      // Both halves are in the one commit of the step; nothing was reset or committed twice.
      expect(git(worktree, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n').sort()).toEqual(
        expect.arrayContaining(['work/part-1.txt', 'work/part-2.txt']),
      )
      const subjects = git(worktree, 'log', '--format=%s').trim().split('\n')
      expect(subjects.filter((s) => s === '[protocol-0001/00] Execute 00-only.md')).toHaveLength(1)
      expect(git(worktree, 'status', '--porcelain').trim()).toBe('')
      const secondPrompt = readFileSync(join(dir, 'agent', '0001-crash', 'prompt-2.txt'), 'utf8')
      expect(secondPrompt).toContain('## Previous attempt interrupted')
      expect(secondPrompt).toContain('This is attempt 2 of 3')
      const events = (await read<EventOut[]>(`/protocols/${run.id}/events?limit=500`)).reverse()
      expect(events.find((e) => e.event_type === 'job_retry_scheduled')?.metadata).toMatchObject({
        error_category: 'worker_lost',
        attempts: 1,
      })
      expect(events.find((e) => e.event_type === 'execution_resumed')).toMatchObject({
        step_run_id: step!.id,
        metadata: { attempt: 2, previous_attempt: 1, interrupted: true },
      })
    },
    180_000,
  )
})
