import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { HealthReport } from '../../app/health.js'
import type { Logger } from '../../logging.js'
import { errorsPlugin } from './errors.plugin.js'
import { requestIdFor, requestIdPlugin } from './request-id.plugin.js'
import { consoleRoutes } from './routes/console.routes.js'
import { healthRoutes } from './routes/health.routes.js'

export interface HttpDeps {
  readonly logger: Logger
  readonly bodyLimitBytes: number
  readonly checkHealth: () => Promise<HealthReport>
}

/** Builds the HTTP face without listening, so tests can drive it through `inject()`. */
export const buildApp = async (deps: HttpDeps): Promise<FastifyInstance> => {
  const server = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    genReqId: (request) => requestIdFor(request.headers['x-request-id']),
    routerOptions: { ignoreTrailingSlash: true },
    disableRequestLogging: false,
  }).withTypeProvider<TypeBoxTypeProvider>()

  await server.register(errorsPlugin)
  await server.register(requestIdPlugin)
  await server.register(healthRoutes, { checkHealth: deps.checkHealth })
  await server.register(consoleRoutes)
  return server
}
