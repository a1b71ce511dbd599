import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'
import type { HealthReport } from '../../../app/health.js'

export interface HealthDeps {
  readonly checkHealth: () => Promise<HealthReport>
}

const HealthOk = Type.Object({ status: Type.Literal('ok') })
const HealthDegraded = Type.Object({
  status: Type.Literal('degraded'),
  checks: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('error')])),
})

/** `/health` keeps the original `{"status":"ok"}`; a failing dependency is a 503 that says which. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (server, { checkHealth }) => {
  const schema = { tags: ['ops'], response: { 200: HealthOk, 503: HealthDegraded } }

  const ready = async (_request: unknown, reply: FastifyReply) => {
    const report = await checkHealth()
    if (report.status === 'ok') return { status: 'ok' as const }
    return reply.status(503).send({ status: 'degraded', checks: report.checks })
  }
  server.get('/health', { schema }, ready)
  server.get('/health/ready', { schema }, ready)

  server.get('/health/live', { schema: { tags: ['ops'], response: { 200: HealthOk } } }, async () => ({
    status: 'ok' as const,
  }))
}
