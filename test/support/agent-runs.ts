import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { createProtocolJobHandlers } from '../../src/app/protocol/protocol-handlers.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import {
  createProtocolJobDeps,
  startServer,
  startWorker,
  type RunningServer,
  type RunningWorker,
} from '../../src/composition/index.js'
import { silentStream } from './api.js'
import {
  createTestDatabase,
  DIALECTS,
  unavailable,
  type TestDatabase,
  type TestDialect,
} from './databases.js'
import { unique } from './fixtures.js'
import { makeLocalRepo, removeDir, tempDir } from './git-repos.js'
import { waitUntil } from './polling.js'
import {
  backendUnavailable,
  dbEnv,
  deletePrefix,
  FAST_TUNING,
  REDIS_URL,
  type TestBackend,
} from './queue-harness.js'

export const SCRIPTED_AGENT = fileURLToPath(new URL('../fixtures/agents/scripted-agent.mjs', import.meta.url))

/** Every database with every queue backend. */
export const AGENT_RUN_SETUPS = DIALECTS.flatMap((dialect) =>
  (['embedded', 'redis'] as const).map((backend) => [dialect, backend] as const),
)
export const setupUnavailable = (dialect: TestDialect, backend: TestBackend): boolean =>
  unavailable(dialect) || backendUnavailable(backend)

export interface StepOut {
  readonly id: number
  readonly step_name: string
  readonly status: string
  readonly runtime_state: Record<string, unknown> | null
}

export interface EventOut {
  readonly event_type: string
  readonly step_run_id: number | null
  readonly message: string
  readonly metadata: Record<string, unknown> | null
}

/**
 * A real API server on a fresh database, the chosen queue (with Redis: the API's relay plus one
 * worker in this process) and the real protocol handlers, driving the `command` engine with the
 * given agent executable and arguments. The scripted agent's control directory is `control`.
 */
export interface AgentRunEnv {
  readonly dir: string
  readonly control: string
  readonly repo: string
  readonly server: RunningServer
  readonly base: string
  call(method: string, path: string, body?: unknown): Promise<Response>
  read<T>(path: string): Promise<T>
  /** Creates a project and a run and plans it; returns the run id and its steps. */
  plannedRun(protocolName: string): Promise<{ runId: number; steps: StepOut[] }>
  events(runId: number): Promise<EventOut[]>
  /** The run's steps as the API lists them. */
  steps(runId: number): Promise<StepOut[]>
  /** One step of the run as the API lists it. */
  step(runId: number, stepId: number): Promise<StepOut | undefined>
  /** Writes `<protocol>/<name>` in the scripted agent's control directory. */
  script(protocolName: string, name: string, text: string): void
  stop(): Promise<void>
}

export interface AgentRunSetup {
  readonly dialect: TestDialect
  readonly backend: TestBackend
}

/** The agent executable the `command` engine runs, its arguments and extra server variables. */
export interface AgentCommand {
  readonly command: string
  readonly args?: readonly string[]
  readonly env?: Record<string, string>
}

export const startAgentRunEnv = async (setup: AgentRunSetup, agent: AgentCommand): Promise<AgentRunEnv> => {
  const dir = tempDir('tgz-agent-run-')
  const database: TestDatabase = await createTestDatabase(setup.dialect)
  const repo = makeLocalRepo(join(dir, 'repo'))
  const controlDir = join(dir, 'control')
  mkdirSync(controlDir, { recursive: true })
  const config = loadConfig(
    {
      ...dbEnv(database.target),
      TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
      TASKSGODZILLA_COMMAND_ENGINE: agent.command,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: [`--control=${controlDir}`, ...(agent.args ?? [])].join(','),
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_JOB_BACKOFF_BASE_MS: '50',
      TASKSGODZILLA_JOB_BACKOFF_MAX_MS: '200',
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      ...(setup.backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL! } : {}),
      ...agent.env,
    },
    dir,
  )
  const prefix = setup.backend === 'redis' ? `tgzq-${unique()}` : undefined
  const tuning = { ...FAST_TUNING, ...(prefix ? { prefix } : {}) }
  const logger = createLogger(config, silentStream())
  const server = await startServer(config, logger, { port: 0 }, (runtime) => ({
    makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
    tuning,
  }))
  let worker: RunningWorker | undefined
  if (setup.backend === 'redis')
    worker = await startWorker(config, logger, { concurrency: 2, graceMs: 1_000 }, { tuning })
  const base = server.address
  const call = (method: string, path: string, body: unknown = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'GET' ? {} : { body: JSON.stringify(body) }),
    })
  const read = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T
  const env: AgentRunEnv = {
    dir,
    control: controlDir,
    repo,
    server,
    base,
    call,
    read,
    async plannedRun(protocolName) {
      const project = (await (
        await call('POST', '/projects', {
          name: `agent-run-${unique()}`,
          git_url: repo,
          local_path: repo,
          default_models: { engine: 'command' },
        })
      ).json()) as { id: number }
      const run = (await (
        await call('POST', `/projects/${project.id}/protocols`, { protocol_name: protocolName })
      ).json()) as { id: number }
      await call('POST', `/protocols/${run.id}/actions/start`)
      await until(async () => (await read<{ status: string }>(`/protocols/${run.id}`)).status === 'planned')
      return { runId: run.id, steps: await read<StepOut[]>(`/protocols/${run.id}/steps`) }
    },
    async events(runId) {
      return (await read<EventOut[]>(`/protocols/${runId}/events?limit=500`)).reverse()
    },
    steps: (runId) => read<StepOut[]>(`/protocols/${runId}/steps`),
    async step(runId, stepId) {
      return (await read<StepOut[]>(`/protocols/${runId}/steps`)).find((s) => s.id === stepId)
    },
    script(protocolName, name, text) {
      mkdirSync(join(controlDir, protocolName), { recursive: true })
      writeFileSync(join(controlDir, protocolName, name), text)
    },
    async stop() {
      await worker?.stop()
      await server.stop()
      await database.drop()
      if (prefix) await deletePrefix(prefix)
      removeDir(dir)
    },
  }
  return env
}

/**
 * Agent-run environments for the calling suite: a test `start`s its own, and it is stopped after
 * the test; `current` is the running test's (for helpers the suite shares between its tests).
 */
export const agentRunEnvPerTest = (setup: AgentRunSetup) => {
  let started: AgentRunEnv | undefined
  afterEach(async () => {
    await started?.stop()
    started = undefined
  })
  return {
    start: async (agent: AgentCommand): Promise<AgentRunEnv> =>
      (started = await startAgentRunEnv(setup, agent)),
    get current(): AgentRunEnv {
      if (!started) throw new Error('no agent-run environment was started in this test')
      return started
    },
  }
}

/** Polls until `done` holds, failing after `timeoutMs`. */
export const until = (done: () => Promise<boolean>, timeoutMs = 30_000, what = 'the run'): Promise<void> =>
  waitUntil(done, what, { timeoutMs, intervalMs: 100 })
