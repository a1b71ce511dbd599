import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Metrics } from '../../metrics.js'

/**
 * Counts and times every request, 500s included, labelled by route template (`/protocols/:id`)
 * rather than the raw path, so ids never explode the label set. Serves `/metrics`.
 */
export const metricsPlugin = fp<{ metrics: Metrics }>(async (server: FastifyInstance, { metrics }) => {
  server.addHook('onResponse', async (request, reply) => {
    metrics.requestsTotal.inc()
    const path = request.routeOptions.url ?? 'unmatched'
    metrics.requestDuration.observe(
      { path, method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
  })

  server.get('/metrics', { schema: { tags: ['ops'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType)
    return metrics.registry.metrics()
  })
})
