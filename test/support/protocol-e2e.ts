import { join } from 'node:path'
import { afterEach } from 'vitest'
import { createProtocolJobHandlers } from '../../src/app/protocol/protocol-handlers.js'
import type { Config } from '../../src/config.js'
import { loadConfig } from '../../src/config.js'
import {
  createProtocolJobDeps,
  startServer,
  startWorker,
  type RunningServer,
  type RunningWorker,
} from '../../src/composition/index.js'
import { createLogger } from '../../src/logging.js'
import { silentStream } from './api.js'
import type { TestDatabase } from './databases.js'
import { removeDir } from './git-repos.js'
import { waitUntil } from './polling.js'
import { dbEnv, deletePrefix, FAST_TUNING, REDIS_URL } from './queue-harness.js'

export type E2eBackend = 'embedded' | 'redis'

/** What differs between the end-to-end runs: the fake agent CLI, its arguments, extra variables. */
export interface E2eAgentSetup {
  readonly dir: string
  readonly database: Config['database']
  readonly backend: E2eBackend
  readonly agent: string
  readonly agentArgs: string
  readonly extraEnv?: Record<string, string>
}

/**
 * The configuration of a server whose every step runs the given fake agent CLI with QA after each
 * execution, on the test database, with Redis when the backend is `redis`.
 */
export const commandAgentConfig = (setup: E2eAgentSetup): Config =>
  loadConfig(
    {
      ...dbEnv(setup.database),
      TASKSGODZILLA_PROJECTS_ROOT: join(setup.dir, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(setup.dir, 'logs'),
      TASKSGODZILLA_COMMAND_ENGINE: setup.agent,
      TASKSGODZILLA_COMMAND_ENGINE_ARGS: setup.agentArgs,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
      ...setup.extraEnv,
      ...(setup.backend === 'redis' ? { TASKSGODZILLA_REDIS_URL: REDIS_URL! } : {}),
    },
    setup.dir,
  )

/**
 * The assembled server running the protocol job handlers, plus (with Redis) a separate BullMQ
 * worker as in production; `prefix` isolates the Redis keys of one test.
 */
export const startProtocolStack = async (
  config: Config,
  options: { readonly backend: E2eBackend; readonly prefix: string | undefined; readonly graceMs: number },
): Promise<{ server: RunningServer; worker: RunningWorker | undefined }> => {
  const logger = createLogger(config, silentStream())
  const tuning = { ...FAST_TUNING, ...(options.prefix ? { prefix: options.prefix } : {}) }
  const server = await startServer(config, logger, { port: 0 }, (runtime) => ({
    makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
    tuning,
  }))
  if (options.backend !== 'redis') return { server, worker: undefined }
  try {
    const worker = await startWorker(config, logger, { concurrency: 2, graceMs: options.graceMs }, { tuning })
    return { server, worker }
  } catch (error) {
    // The caller never receives the server, so its cleanup cannot stop it.
    await server.stop()
    throw error
  }
}

/** An event as the API lists it, the fields the e2e suites look at. */
export interface EventOut {
  readonly event_type: string
  readonly step_run_id: number | null
  readonly metadata: Record<string, unknown> | null
}

/** A JSON reply of the API: a created or changed row. */
export type Reply = { readonly id: number } & Record<string, unknown>

/** Reads and writes the API as JSON; a non-2xx answer to a write throws with its body. */
export const jsonClient = (base: string) => ({
  read: async (path: string): Promise<unknown> => (await fetch(`${base}${path}`)).json(),
  call: async (method: string, path: string, body: unknown): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`)
    return (await response.json()) as Reply
  },
})

/** Polls `done` every 200 ms until it holds, or throws after `timeoutMs`. */
export const until = (done: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> =>
  waitUntil(done, 'the run', { timeoutMs, intervalMs: 200 })

/** What one e2e test started; each is stopped or removed after the test. */
export interface E2eResources {
  stack?: { readonly server: RunningServer; readonly worker: RunningWorker | undefined }
  database?: TestDatabase
  prefix?: string | undefined
  dir?: string
}

/** Registers the cleanup of an e2e test's resources after each test; the test fills the holder. */
export const cleanUpAfterEach = (): E2eResources => {
  const held: E2eResources = {}
  afterEach(async () => {
    await held.stack?.worker?.stop()
    await held.stack?.server.stop()
    await held.database?.drop()
    if (held.prefix) await deletePrefix(held.prefix)
    if (held.dir) removeDir(held.dir)
  })
  return held
}
