import type { JobHandlers } from '../app/queue-runtime/job-handler.js'
import type { ProtocolJobDeps } from '../app/protocol/protocol-job-deps.js'
import { createProtocolJobHandlers } from '../app/protocol/protocol-handlers.js'
import { notificationJobDeps } from './notifications.js'
import type { Runtime } from './runtime.js'

/** The deps of the protocol job handlers: the runtime's unit of work and adapters, counters over its metrics. */
export const createProtocolJobDeps = (runtime: Runtime): ProtocolJobDeps => {
  const { config, metrics, adapters } = runtime
  return {
    uow: runtime.deps.uow,
    engineLimits: runtime.deps.repos.engineLimits,
    git: adapters.git,
    baseSync: adapters.baseSync,
    engines: adapters.engines,
    config,
    counters: {
      estimatedTokens: (phase, model, tokens) => metrics.codexTokensEstimated.inc({ phase, model }, tokens),
      agentTokens: (labels, tokens) => metrics.agentTokens.inc({ ...labels }, tokens),
      qaVerdict: (verdict) => metrics.qaVerdicts.inc({ verdict }),
    },
    codeHosts: adapters.codeHosts,
    paths: { logsDir: config.engines.logsDir },
    files: adapters.files,
    assets: adapters.assets,
    engineTimeoutMs: config.engines.timeoutMs,
    engineStallMs: config.engines.stallMs,
    notifier: notificationJobDeps(config),
  }
}

/** The real handlers of every job type, for `serve`, `worker` and `demo`. */
export const productionHandlers = (runtime: Runtime) => (): JobHandlers =>
  createProtocolJobHandlers(createProtocolJobDeps(runtime))
