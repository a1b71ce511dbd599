import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createApp } from '../app/app.js'
import { makeTriggerCi } from '../app/ci/trigger-ci.js'
import { makeImportCodeMachine } from '../app/codemachine/import-codemachine.js'
import { makeWatchEvents } from '../app/events/watch-events.js'
import { batchedPerTurn, readScopeKey } from '../app/reads-per-turn.js'
import { makeDeleteBranch, makeListBranches } from '../app/projects/branches.js'
import { makeMcpTasks } from '../app/mcp/mcp-tasks.js'
import { makeReceiveWebhook } from '../app/webhooks/receive-webhook.js'
import { buildApp } from '../faces/http/build-app.js'
import type { Config } from '../config.js'
import { notificationUseCases } from './notifications.js'
import { packageRoot } from './package-root.js'
import type { Runtime } from './runtime.js'

/**
 * The assembled HTTP face (use cases, webhooks, live events, console) over one runtime;
 * `listenHost` is where it will listen (default: what start-up would pick), for the Host check.
 */
export const createHttpServer = (runtime: Runtime, listenHost?: string): Promise<FastifyInstance> => {
  const { config, deps, adapters } = runtime
  const { git, files } = adapters
  const app = createApp({
    ...deps,
    queueBackend: config.queue.backend === 'redis' ? 'redis-bullmq' : 'embedded',
    probes: runtime.probes,
    git,
    files,
    repoPolicy: { projectsRoot: config.repos.projectsRoot, allowLocalRepos: config.repos.allowLocalRepos },
    engineIds: adapters.engines.ids(),
  })
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
    importCodeMachine: makeImportCodeMachine({ ...deps, git, files, assets: adapters.assets }),
    notifications: notificationUseCases(config, deps),
    mcpTasks: makeMcpTasks({ repos: deps.repos }),
    triggerCi: makeTriggerCi({
      ...deps,
      codeHosts: adapters.codeHosts,
      defaultWorkflow: config.hosts.ciWorkflow,
    }),
    consoleRoot: join(packageRoot(), 'dist', 'console'),
    // One version read per event-loop turn for every stream whose poll is due in it (apart from the
    // read memo's: streams poll every 2 s, so sharing a statement with requests would save little).
    watchEvents: makeWatchEvents({
      repos: deps.repos,
      signal: runtime.signal,
      scopeVersion: batchedPerTurn(runtime.database.scopeVersions, readScopeKey),
    }),
    logger: runtime.logger,
    metrics: runtime.metrics,
    apiToken: config.api.token,
    metricsPublic: config.api.metricsPublic,
    bodyLimitBytes: config.api.bodyLimitBytes,
    scopeVersions: runtime.database.scopeVersions,
    readCacheBytes: config.api.readCacheBytes,
    corsOrigins: config.api.corsOrigins,
    maxStreamsPerToken: config.api.maxStreamsPerToken,
    maxStreams: config.api.maxStreams,
    bindHost: bindHost(config, listenHost),
    allowedHosts: config.api.allowedHosts,
  })
}

/** Without an API token the server stays on loopback unless a host was asked for explicitly. */
export const bindHost = (config: Config, requested: string | undefined): string => {
  if (requested !== undefined) return requested
  if (config.api.hostExplicit) return config.api.host
  return config.api.token === undefined ? '127.0.0.1' : '0.0.0.0'
}
