import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { until, type StepOut } from './agent-runs.js'
import { silentStream } from './api.js'
import { createTestDatabase, type TestDatabase, type TestDialect } from './databases.js'
import { unique } from './fixtures.js'
import { makeLocalRepo, removeDir, tempDir } from './git-repos.js'
import { dbEnv, deletePrefix, REDIS_URL, type TestBackend } from './queue-harness.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WORKER = fileURLToPath(new URL('./agent-worker.process.ts', import.meta.url))

/** Real processes, killed for real; Redis workers run against Postgres (the scaled set-up). */
export const CRASH_SETUPS: Array<[TestBackend, TestDialect]> = [
  ['embedded', 'sqlite'],
  ['embedded', 'postgres'],
  ['redis', 'postgres'],
]

/** A queue process running the real handlers (test/support/agent-worker.process.ts), once `ready`. */
const outputs: string[] = []
const spawnWorker = async (env: Record<string, string>): Promise<ChildProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const index = outputs.push('') - 1
  child.on('exit', () => (outputs[index] = output.slice(-3000)))
  setTimeout(() => (outputs[index] = output.slice(-3000)), 55_000).unref()
  await until(async () => output.includes('ready') || child.exitCode !== null, 30_000, 'the worker to start')
  if (child.exitCode !== null) throw new Error(`worker did not start:\n${output}`)
  return child
}

export interface CrashedStep {
  readonly dir: string
  readonly worktree: string
  readonly runId: number
  readonly stepId: number
  read<T>(path: string): Promise<T>
}

export interface CrashScenario {
  /** Agent settings for the server and its workers (TASKSGODZILLA_* engine variables, PATH…). */
  readonly env: (dir: string) => Record<string, string>
  /** More fields of the created project (an engine chain). */
  readonly project?: Record<string, unknown>
}

/**
 * A step whose worker is SIGKILLed once its agent has written `work/part-1.txt`, and which a
 * second worker then takes to `needs_qa`. One protocol `0001-crash`, one planned step. Whatever it
 * starts is stopped and removed by `cleanUp` (call it from afterEach).
 */
export const crashHarness = () => {
  const children: ChildProcess[] = []
  let server: RunningServer | undefined
  let database: TestDatabase | undefined
  let dir: string | undefined
  let prefix: string | undefined
  const cleanUp = async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
    await server?.stop()
    await database?.drop()
    if (prefix) await deletePrefix(prefix)
    if (dir) removeDir(dir)
    server = database = dir = prefix = undefined
  }
  const crashStep = async (
    [backend, dialect]: [TestBackend, TestDialect],
    scenario: CrashScenario,
  ): Promise<CrashedStep> => {
    const root = (dir = tempDir('tgz-agent-crash-'))
    database = await createTestDatabase(dialect)
    const repo = makeLocalRepo(join(root, 'repo'))
    prefix = backend === 'redis' ? `tgzq-${unique()}` : undefined
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...dbEnv(database.target),
      TASKSGODZILLA_PROJECTS_ROOT: join(root, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(root, 'logs'),
      TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '50',
      TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '200',
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      HARNESS_ROLE: backend === 'redis' ? 'worker' : 'embedded',
      ...(backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL!, HARNESS_PREFIX: prefix! } : {}),
      ...scenario.env(root),
    }
    const config = loadConfig(env, root)
    server = await startServer(config, createLogger(config, silentStream()), { port: 0, runJobs: false })
    const base = server.address
    const call = async (method: string, path: string, body: unknown = {}) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as { id: number }
    }
    const read = async <T>(path: string) => (await (await fetch(`${base}${path}`)).json()) as T
    children.push(await spawnWorker(env))

    const project = await call('POST', '/projects', {
      name: `crash-${unique()}`,
      git_url: repo,
      local_path: repo,
      ...scenario.project,
    })
    const run = await call('POST', `/projects/${project.id}/protocols`, { protocol_name: '0001-crash' })
    await call('POST', `/protocols/${run.id}/actions/start`)
    await until(
      async () => (await read<{ status: string }>(`/protocols/${run.id}`)).status === 'planned',
      60_000,
      'the run to be planned',
    ).catch(async (error: Error) => {
      const events = await read<Array<{ event_type: string; message: string }>>(`/protocols/${run.id}/events`)
      const jobs = await read<unknown>(`/queues/jobs?protocol_run_id=${run.id}`)
      throw new Error(`${error.message}\n${JSON.stringify({ events, jobs, workers: outputs }, null, 1)}`)
    })
    const [step] = await read<StepOut[]>(`/protocols/${run.id}/steps`)
    await call('POST', `/steps/${step!.id}/actions/run`)
    const worktree = join(root, 'worktrees', '0001-crash')
    await until(async () => existsSync(join(worktree, 'work', 'part-1.txt')), 60_000, 'the first half')

    children[0]!.kill('SIGKILL')
    children.push(await spawnWorker(env))
    const stepStatus = async () => (await read<StepOut[]>(`/protocols/${run.id}/steps`))[0]!.status
    await until(async () => (await stepStatus()) === 'needs_qa', 60_000, 'the step to finish')
    return { dir: root, worktree, runId: run.id, stepId: step!.id, read }
  }
  return { crashStep, cleanUp }
}
