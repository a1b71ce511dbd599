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

/** How long a healthy report answers `/health` again: a probe is a database round trip per call. */
export const HEALTHY_REPORT_REUSE_MS = 1_000

/**
 * Checks shared: requests that arrive while a check is under way wait for it, and a healthy
 * report is reused for `reuseMs`. A degraded one is not, so recovery shows on the next call;
 * a failure shows at most `reuseMs` late.
 */
export const sharedHealthCheck = (
  check: () => Promise<HealthReport>,
  reuseMs: number,
): (() => Promise<HealthReport>) => {
  let inFlight: Promise<HealthReport> | undefined
  let healthyUntil = 0
  let healthy: HealthReport | undefined
  return () => {
    if (healthy !== undefined && performance.now() < healthyUntil) return Promise.resolve(healthy)
    inFlight ??= check()
      .then((report) => {
        healthy = report.status === 'ok' ? report : undefined
        healthyUntil = performance.now() + reuseMs
        return report
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
}

/** `/health` keeps the original `{"status":"ok"}`; a failing dependency is a 503 that says which. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (server, deps) => {
  const checkHealth = sharedHealthCheck(deps.checkHealth, HEALTHY_REPORT_REUSE_MS)
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
