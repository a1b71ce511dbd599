import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { createApp } from './app/app.js'
import type { AppDeps } from './app/app-deps.js'
import { makeWatchEvents } from './app/events/watch-events.js'
import type { HealthProbe } from './app/health.js'
import type { EventSignal } from './app/ports.js'
import type { ProtocolJobDeps } from './app/jobs/protocol-job-deps.js'
import { createProtocolJobHandlers } from './app/jobs/protocol-handlers.js'
import { driveDemo } from './demo-driver.js'
import { createBuiltInRegistry } from './adapters/engines/engine.registry.js'
import { createCodeHosts } from './adapters/hosts/code-hosts.js'
import { makeTriggerCi } from './app/ci/trigger-ci.js'
import { createInProcessSignal } from './adapters/live/in-process.signal.js'
import { createPostgresSignal } from './adapters/live/postgres.signal.js'
import { createRedisSignal } from './adapters/live/redis.signal.js'
import { assertRedisReachable } from './adapters/queue/redis-connection.js'
import { openDatabase, type DatabaseHandle } from './adapters/storage/database.js'
import { migrateToLatest, type MigrationReport } from './adapters/storage/migrations/index.js'
import { createRepositories, createUnitOfWork } from './adapters/storage/unit-of-work.js'
import { mkdirSync } from 'node:fs'
import { loadConfig, type Config } from './config.js'
import { createSampleRepo, demoEnv } from './demo-environment.js'
import { buildApp } from './faces/http/build-app.js'
import { makeDeleteBranch, makeListBranches } from './app/projects/branches.js'
import { createContainedFiles } from './adapters/files/contained-files.adapter.js'
import { makeImportCodeMachine } from './app/codemachine/import-codemachine.js'
import { makeReceiveWebhook } from './app/webhooks/receive-webhook.js'
import { createGitClient, type GitClientOptions } from './adapters/git/git.client.js'
import { createBaseSync } from './adapters/git/base-sync.js'
import type { Logger } from './logging.js'
import { createMetrics, type Metrics } from './metrics.js'
import { listenMetrics } from './faces/http/metrics-server.js'
import {
  createQueueLink,
  createQueueRuntime,
  createWorkerRuntime,
  type QueueLink,
  type QueueRuntime,
  type QueueWiringOptions,
} from './main-queue.js'

/** The only place that wires adapters to the app and the faces. */

export interface Runtime {
  readonly config: Config
  readonly logger: Logger
  readonly database: DatabaseHandle
  readonly metrics: Metrics
  readonly signal: EventSignal
  readonly deps: AppDeps
  /** Dependencies whose reachability decides readiness (database, and Redis when used). */
  readonly probes: readonly HealthProbe[]
  /** Connects use cases' commits and aborts to the queue once `startQueue` attached it. */
  readonly queueLink: QueueLink
  close(): Promise<void>
}

/** Opens the database (schema brought up to date) and the live signal; every entry point starts here. */
export const openRuntime = async (config: Config, logger: Logger): Promise<Runtime> => {
  // Before anything is opened: an unreachable Redis ends start-up with one line (ORC_QUEUE_UNAVAILABLE).
  if (config.queue.backend === 'redis') await assertRedisReachable(config.queue.url)
  const database = openDatabase(config.database)
  try {
    const report = await migrateToLatest(database)
    if (report.applied.length > 0) logger.info({ applied: report.applied }, 'database migrated')
  } catch (error) {
    await database.close()
    throw error
  }
  const shared = await openSharedSignal(config, logger)
  const signal = shared?.signal ?? createInProcessSignal()
  const queueLink = createQueueLink()
  const deps: AppDeps = {
    uow: createUnitOfWork(database.db, (committed) => {
      if (committed.events.length > 0) signal.notify()
      queueLink.wake(committed.jobs)
    }),
    repos: createRepositories(database.db),
    jobPolicy: { maxAttempts: config.jobs.maxAttempts },
    abortRun: (protocolRunId) => queueLink.abortRun(protocolRunId),
  }
  const probes = [
    databaseProbe(database),
    ...(shared ? [{ name: shared.name, check: shared.signal.ping }] : []),
  ]
  return {
    config,
    logger,
    database,
    metrics: createMetrics(),
    signal,
    deps,
    probes,
    queueLink,
    close: async () => {
      await shared?.signal.close()
      await database.close()
    },
  }
}

/**
 * The signal that wakes live streams in every process: Redis pub/sub when Redis is configured,
 * else Postgres LISTEN/NOTIFY on a Postgres database; undefined for a single process (SQLite).
 */
const openSharedSignal = async (config: Config, logger: Logger) => {
  if (config.queue.backend === 'redis')
    return { name: 'redis', signal: await createRedisSignal(config.queue.url) }
  if (config.database.dialect === 'postgres')
    return { name: 'live_events', signal: await createPostgresSignal(config.database.url, { logger }) }
  return undefined
}

/** Applies pending migrations and reports what ran; used by `tasksgodzilla migrate`. */
export const runMigrations = async (config: Config): Promise<MigrationReport> => {
  const database = openDatabase(config.database)
  try {
    return await migrateToLatest(database)
  } finally {
    await database.close()
  }
}

export const databaseProbe = (database: DatabaseHandle): HealthProbe => ({
  name: 'db',
  check: async () => {
    await sql`select 1`.execute(database.db)
  },
})

/** The API over the runtime; `listenHost` is where it will listen (default: what start-up would pick). */
export const createHttpServer = (runtime: Runtime, listenHost?: string): Promise<FastifyInstance> => {
  const { config, deps } = runtime
  const app = createApp({
    ...deps,
    queueBackend: config.queue.backend === 'redis' ? 'redis-bullmq' : 'embedded',
    probes: runtime.probes,
  })
  const git = createGitClient(gitPolicyFor(config))
  const receiveWebhook = makeReceiveWebhook({
    ...deps,
    autoQaOnCi: config.qa.autoOnCi,
    maxInlineTriggerDepth: config.maxInlineTriggerDepth,
    globalSecret: config.webhooks.token,
    allowUnsigned: config.webhooks.allowUnsigned,
    reviews: config.reviews,
    git,
    count: (provider, status) => runtime.metrics.webhooksTotal.inc({ provider, status }),
  })
  return buildApp({
    app,
    receiveWebhook,
    listBranches: makeListBranches({ ...deps, git }),
    deleteBranch: makeDeleteBranch({ ...deps, git }),
    importCodeMachine: makeImportCodeMachine({
      ...deps,
      git,
      projectsRoot: config.repos.projectsRoot,
      files: createContainedFiles({ maxBytes: config.files.containedMaxBytes }),
    }),
    triggerCi: makeTriggerCi({
      ...deps,
      codeHosts: codeHostsFor(config),
      defaultWorkflow: config.hosts.ciWorkflow,
    }),
    watchEvents: makeWatchEvents({ repos: deps.repos, signal: runtime.signal }),
    logger: runtime.logger,
    metrics: runtime.metrics,
    apiToken: config.api.token,
    metricsPublic: config.api.metricsPublic,
    bodyLimitBytes: config.api.bodyLimitBytes,
    dataVersion: runtime.database.dataVersion,
    readCacheBytes: config.api.readCacheBytes,
    corsOrigins: config.api.corsOrigins,
    maxStreamsPerToken: config.api.maxStreamsPerToken,
    bindHost: bindHost(config, listenHost),
    allowedHosts: config.api.allowedHosts,
  })
}

export interface ListenOptions {
  readonly host?: string
  readonly port?: number
  /**
   * False for an API-only instance: it neither runs nor relays jobs, leaving them in the outbox
   * for other processes (`serve --no-jobs`).
   */
  readonly runJobs?: boolean
}

export interface RunningServer {
  readonly server: FastifyInstance
  readonly address: string
  readonly runtime: Runtime
  stop(): Promise<void>
}

/**
 * Starts the API on the embedded default or the configured backends. Without an API token the
 * server stays on loopback unless a host was asked for explicitly, and says so.
 */
export const startServer = async (
  config: Config,
  logger: Logger,
  options: ListenOptions = {},
  wiring?: (runtime: Runtime) => QueueWiringOptions,
): Promise<RunningServer> => {
  const runtime = await openRuntime(config, logger)
  const queue = options.runJobs === false ? undefined : await startQueue(runtime, wiring?.(runtime))
  const host = bindHost(config, options.host)
  const server = await createHttpServer(runtime, host)
  if (config.api.token === undefined) {
    logger.warn(
      { host },
      'TASKSGODZILLA_API_TOKEN is not set: the API accepts every caller that can reach it',
    )
  }
  const address = await server.listen({ host, port: options.port ?? config.api.port })
  logger.info({ address, database: config.database.dialect, queue: config.queue.backend }, 'Starting API')
  return {
    server,
    address,
    runtime,
    stop: async () => {
      logger.info('Shutting down API')
      await closeGracefully(server)
      await queue?.stop(SHUTDOWN_GRACE_MS)
      await runtime.close()
    },
  }
}

/**
 * Closes the HTTP server letting requests in flight finish. A keep-alive connection that was busy
 * when closing began turns idle afterwards and would hold the close for the whole keep-alive
 * timeout (72 s by default), so idle connections are swept until the close completes.
 */
const closeGracefully = async (server: FastifyInstance): Promise<void> => {
  const sweep = setInterval(() => server.server.closeIdleConnections(), 100)
  try {
    await server.close()
  } finally {
    clearInterval(sweep)
  }
}

/** GitHub/GitLab through their APIs when a token is set, else `gh`/`glab` found on this process's PATH. */
const codeHostsFor = (config: Config) =>
  createCodeHosts({ ...config.hosts, cli: { searchPath: process.env.PATH, env: process.env } })

/** Where clones go and what they may reach. */
const gitPolicyFor = (config: Config): GitClientOptions => ({
  projectsRoot: config.repos.projectsRoot,
  commitMaxFileBytes: config.files.commitMaxFileBytes,
  allowLocalRepos: config.repos.allowLocalRepos,
  allowPrivateHosts: config.repos.allowPrivateGitHosts,
  cloneTimeoutMs: config.repos.cloneTimeoutSeconds * 1000,
})

const bindHost = (config: Config, requested: string | undefined): string => {
  if (requested !== undefined) return requested
  if (config.api.hostExplicit) return config.api.host
  return config.api.token === undefined ? '127.0.0.1' : '0.0.0.0'
}

/**
 * The deps of the protocol job handlers for one worker: git CLI, engines (codex, claude, opencode,
 * plus `command` when TASKSGODZILLA_COMMAND_ENGINE is set), code hosts, counters over the metrics.
 * The queue's worker passes `createProtocolJobHandlers(createProtocolJobDeps(runtime))`.
 */
export const createProtocolJobDeps = (runtime: Runtime): ProtocolJobDeps => {
  const { config, metrics } = runtime
  const command = config.engines.command
  return {
    uow: runtime.deps.uow,
    git: createGitClient(gitPolicyFor(config)),
    baseSync: createBaseSync(gitPolicyFor(config)),
    engines: createBuiltInRegistry({
      commands: command ? [{ id: 'command', command, args: config.engines.commandArgs }] : [],
      ...(config.engines.defaultId ? { defaultId: config.engines.defaultId } : {}),
    }),
    config,
    counters: {
      estimatedTokens: (phase, model, tokens) => metrics.codexTokensEstimated.inc({ phase, model }, tokens),
      agentTokens: (labels, tokens) => metrics.agentTokens.inc({ ...labels }, tokens),
      qaVerdict: (verdict) => metrics.qaVerdicts.inc({ verdict }),
    },
    codeHosts: codeHostsFor(config),
    paths: { logsDir: config.engines.logsDir },
    files: createContainedFiles({ maxBytes: config.files.containedMaxBytes }),
    engineTimeoutMs: config.engines.timeoutMs,
  }
}

export interface DemoOptions {
  /** Folder for the sample repository, database and logs (created when missing). */
  readonly dir: string
  readonly port?: number
}

export interface RunningDemo extends RunningServer {
  readonly projectId: number
  readonly protocolRunId: number
  readonly consoleUrl: string
}

/**
 * `tasksgodzilla demo`: a sample repository, the server embedded with the bundled demo agent as
 * the `command` engine, and a project and protocol created and started through the API.
 */
export const startDemo = async (
  env: Readonly<Record<string, string | undefined>>,
  options: DemoOptions,
  logger: (config: Config) => Logger,
): Promise<RunningDemo> => {
  mkdirSync(options.dir, { recursive: true })
  const repo = createSampleRepo(options.dir)
  const config = loadConfig({ ...env, ...demoEnv(options.dir) }, options.dir)
  const running = await startServer(config, logger(config), { port: options.port ?? 0 }, (runtime) => ({
    makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
  }))
  const call = demoClient(running.address, config.api.token)
  const project = await call('POST', '/projects', {
    name: `demo-${Date.now().toString(36)}`,
    git_url: repo,
    local_path: repo,
    default_models: { engine: 'command' },
  })
  const protocol = await call('POST', `/projects/${project.id}/protocols`, {
    protocol_name: '0001-demo',
    description: 'Add a short usage section to the README',
  })
  await call('POST', `/protocols/${protocol.id}/actions/start`, {})
  const read = async (path: string): Promise<unknown> => {
    const headers: Record<string, string> = config.api.token
      ? { authorization: `Bearer ${config.api.token}` }
      : {}
    return (await fetch(`${running.address}${path}`, { headers })).json()
  }
  const driver = driveDemo(read, call, protocol.id)
  return {
    ...running,
    stop: async () => {
      driver.stop()
      await running.stop()
    },
    projectId: project.id,
    protocolRunId: protocol.id,
    consoleUrl: `${running.address}/console/`,
  }
}

const demoClient =
  (base: string, token: string | undefined) =>
  async (method: string, path: string, body: unknown): Promise<{ id: number }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    if (!response.ok)
      throw new Error(`demo: ${method} ${path} answered ${response.status}: ${await response.text()}`)
    return (await response.json()) as { id: number }
  }

// ---- Queue and workers (issue 4) ----

/** How long running jobs may take to finish on shutdown before they are handed to another worker. */
export const SHUTDOWN_GRACE_MS = 25_000

/**
 * The API process's queue: the embedded dispatcher, or the relay and reconciler feeding Redis.
 * Fails (closing the database) when Redis is unreachable.
 */
export const startQueue = async (
  runtime: Runtime,
  options: QueueWiringOptions = {},
): Promise<QueueRuntime> => {
  const queue = createQueueRuntime(runtime, {
    onCommit: notifyEvents(runtime),
    makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
    ...options,
  })
  runtime.queueLink.attach(queue.queue)
  try {
    await queue.queue.start()
  } catch (error) {
    await queue.stop(0)
    await runtime.close()
    throw error
  }
  return queue
}

export interface WorkerOptions {
  readonly concurrency: number
  readonly queues?: readonly string[]
  /** Serve `/metrics` on this port (0 picks a free one). */
  readonly metricsPort?: number
  readonly metricsHost?: string
  readonly graceMs?: number
}

export interface RunningWorker {
  readonly metricsAddress: string | undefined
  stop(): Promise<void>
}

/** A `tasksgodzilla worker` process: BullMQ consumers plus their own `/metrics` endpoint. */
export const startWorker = async (
  config: Config,
  logger: Logger,
  options: WorkerOptions,
  wiring: QueueWiringOptions = {},
): Promise<RunningWorker> => {
  const runtime = await openRuntime(config, logger)
  const metrics = wiring.metrics ?? runtime.metrics
  const worker = createWorkerRuntime(runtime, {
    onCommit: notifyEvents(runtime),
    makeHandlers: () => createProtocolJobHandlers(createProtocolJobDeps(runtime)),
    ...wiring,
    ...options,
    metrics,
  })
  try {
    await worker.start()
  } catch (error) {
    await worker.stop(0).catch(() => undefined)
    await runtime.close()
    throw error
  }
  const server =
    options.metricsPort === undefined
      ? undefined
      : await listenMetrics(metrics.registry, options.metricsHost ?? '0.0.0.0', options.metricsPort)
  logger.info({ concurrency: options.concurrency, metrics: server?.address }, 'Worker started')
  return {
    metricsAddress: server?.address,
    stop: async () => {
      logger.info('Worker stopping: finishing running jobs')
      await worker.stop(options.graceMs ?? SHUTDOWN_GRACE_MS)
      await server?.close()
      await runtime.close()
    },
  }
}

/** Events written by job handlers reach live streams like the API's own. */
const notifyEvents =
  (runtime: Runtime) =>
  (committed: { readonly events: readonly unknown[] }): void => {
    if (committed.events.length > 0) runtime.signal.notify()
  }
