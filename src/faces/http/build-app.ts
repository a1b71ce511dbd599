import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type InjectOptions } from 'fastify'
import type { App } from '../../app/app.js'
import type { ChangeOrigin } from '../../app/context.js'
import type { ScopeVersions } from '../../app/ports.js'
import type { EventWatch, WatchFilter } from '../../app/events/watch-events.js'
import type { Logger } from '../../logging.js'
import type { Metrics } from '../../metrics.js'
import { authPlugin } from './auth.plugin.js'
import { errorsPlugin } from './errors.plugin.js'
import { hostOriginPlugin } from './host-origin.plugin.js'
import { installJsonParser } from './json-body.js'
import { metricsPlugin } from './metrics.plugin.js'
import { readMemoPlugin } from './read-memo.plugin.js'
import { streamLimitPlugin } from './stream-limit.plugin.js'
import { installNotFound } from './not-found.js'
import { requestIdFor, requestIdPlugin } from './request-id.plugin.js'
import { consoleRoutes } from './routes/console.routes.js'
import { branchRoutes, type BranchRouteDeps } from './routes/branches.routes.js'
import { codeMachineRoutes, type CodeMachineRouteDeps } from './routes/codemachine.routes.js'
import { ciRoutes, type CiRouteDeps } from './routes/ci.routes.js'
import { eventRoutes } from './routes/events.routes.js'
import { healthRoutes } from './routes/health.routes.js'
import { projectRoutes } from './routes/projects.routes.js'
import { protocolRoutes } from './routes/protocols.routes.js'
import { queueRoutes } from './routes/queues.routes.js'
import { stepLogRoutes } from './routes/step-logs.routes.js'
import { stepRoutes } from './routes/steps.routes.js'
import { webhookRoutes, type WebhookRouteDeps } from './routes/webhooks.routes.js'
import { notificationRoutes } from './routes/notifications.routes.js'
import { mcpHttpRoutes } from '../mcp/mcp-http.routes.js'
import type { McpCaller, McpTasks } from '../../app/mcp/mcp-tasks.js'
import type { NotificationUseCases } from '../../app/notifications/notification-use-cases.js'
import { createValidatorCompiler } from './validators.js'

export interface HttpDeps extends WebhookRouteDeps, BranchRouteDeps, CodeMachineRouteDeps, CiRouteDeps {
  readonly app: App
  readonly watchEvents: (filter: WatchFilter, ctx: ChangeOrigin) => Promise<EventWatch>
  readonly logger: Logger
  readonly metrics: Metrics
  readonly apiToken: string | undefined
  readonly metricsPublic: boolean
  readonly bodyLimitBytes: number
  readonly scopeVersions: ScopeVersions
  readonly readCacheBytes: number
  readonly corsOrigins: readonly string[]
  /** `TASKSGODZILLA_MAX_STREAMS_PER_TOKEN`: open SSE / log-follow connections per caller. */
  readonly maxStreamsPerToken: number
  /** `TASKSGODZILLA_MAX_STREAMS`: open SSE / log-follow connections of the process, all callers. */
  readonly maxStreams: number
  /** The address the server listens on, for the Host allow-list. */
  readonly bindHost: string
  readonly allowedHosts: readonly string[]
  readonly notifications: NotificationUseCases
  /** The MCP tasks of one caller (`/mcp`'s shared task store); without it `/mcp` offers no task. */
  readonly mcpTasks?: (caller: McpCaller) => McpTasks
  /** Folder of the built console; the composition root passes `dist/console` of the package root. */
  readonly consoleRoot?: string
}

/** Builds the HTTP face without listening, so tests can drive it through `inject()`. */
export const buildApp = async (deps: HttpDeps): Promise<FastifyInstance> => {
  const server = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    genReqId: (request) => requestIdFor(request.headers['x-request-id']),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>()
  server.setValidatorCompiler(createValidatorCompiler())
  installJsonParser(server)
  installNotFound(server)

  await server.register(errorsPlugin)
  await server.register(requestIdPlugin)
  await server.register(metricsPlugin, { metrics: deps.metrics })
  await server.register(hostOriginPlugin, {
    bindHost: deps.bindHost,
    allowedHosts: deps.allowedHosts,
    tokenConfigured: deps.apiToken !== undefined,
    corsOrigins: deps.corsOrigins,
  })
  await server.register(authPlugin, { token: deps.apiToken, metricsPublic: deps.metricsPublic })
  if (deps.corsOrigins.length > 0) await server.register(cors, { origin: [...deps.corsOrigins] })
  // The last onRequest hook: a kept body is sent from it, and hooks after it would not run.
  await server.register(streamLimitPlugin, {
    maxPerCaller: deps.maxStreamsPerToken,
    maxTotal: deps.maxStreams,
  })
  await server.register(readMemoPlugin, {
    scopeVersions: deps.scopeVersions,
    maxBytes: deps.readCacheBytes,
    registry: deps.metrics.registry,
  })
  await server.register(swagger, {
    openapi: {
      info: { title: 'TasksGodzilla Orchestrator API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  })
  await server.register(swaggerUi, { routePrefix: '/docs' })
  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger())

  await server.register(healthRoutes, { checkHealth: deps.app.checkHealth })
  await server.register(projectRoutes, { app: deps.app })
  await server.register(protocolRoutes, { app: deps.app })
  await server.register(stepRoutes, { app: deps.app })
  await server.register(stepLogRoutes, { app: deps.app })
  await server.register(eventRoutes, { app: deps.app, watchEvents: deps.watchEvents })
  await server.register(queueRoutes, { app: deps.app })
  await server.register(branchRoutes, { listBranches: deps.listBranches, deleteBranch: deps.deleteBranch })
  await server.register(codeMachineRoutes, { importCodeMachine: deps.importCodeMachine })
  await server.register(webhookRoutes, { receiveWebhook: deps.receiveWebhook })
  await server.register(ciRoutes, { triggerCi: deps.triggerCi })
  await server.register(notificationRoutes, { notifications: deps.notifications })
  await server.register(mcpHttpRoutes, {
    inject: (options: InjectOptions) => server.inject(options),
    ...(deps.mcpTasks ? { tasks: deps.mcpTasks } : {}),
  })
  await server.register(consoleRoutes, deps.consoleRoot === undefined ? {} : { root: deps.consoleRoot })
  return server
}
