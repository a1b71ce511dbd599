import type { FastifyInstance } from 'fastify'
import { createApp } from '../app/app.js'
import { makeTriggerCi } from '../app/ci/trigger-ci.js'
import { makeImportCodeMachine } from '../app/codemachine/import-codemachine.js'
import { makeWatchEvents } from '../app/events/watch-events.js'
import { makeDeleteBranch, makeListBranches } from '../app/projects/branches.js'
import { makeReceiveWebhook } from '../app/webhooks/receive-webhook.js'
import { buildApp } from '../faces/http/build-app.js'
import type { Runtime } from './runtime.js'

/** The assembled HTTP face (use cases, webhooks, live events, console) over one runtime. */
export const createHttpServer = (runtime: Runtime): Promise<FastifyInstance> => {
  const { config, deps, adapters } = runtime
  const { git } = adapters
  const app = createApp({
    ...deps,
    queueBackend: config.queue.backend === 'redis' ? 'redis-bullmq' : 'embedded',
    probes: runtime.probes,
  })
  const receiveWebhook = makeReceiveWebhook({
    ...deps,
    autoQaOnCi: config.qa.autoOnCi,
    maxInlineTriggerDepth: config.maxInlineTriggerDepth,
    globalSecret: config.webhooks.token,
    allowUnsigned: config.webhooks.allowUnsigned,
    git,
    count: (provider, status) => runtime.metrics.webhooksTotal.inc({ provider, status }),
  })
  return buildApp({
    app,
    receiveWebhook,
    listBranches: makeListBranches({ ...deps, git }),
    deleteBranch: makeDeleteBranch({ ...deps, git }),
    importCodeMachine: makeImportCodeMachine({ ...deps, git, projectsRoot: config.repos.projectsRoot }),
    triggerCi: makeTriggerCi({
      ...deps,
      codeHosts: adapters.codeHosts,
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
  })
}
