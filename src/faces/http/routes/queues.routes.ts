import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { App } from '../../../app/app.js'
import { toActionReply, toJobOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { ActionReply, ERROR_RESPONSES, Id, JobOut, Limit, Nullable } from '../schemas/common.schema.js'

const Counts = Type.Object({
  queued: Type.Integer(),
  started: Type.Integer(),
  finished: Type.Integer(),
  failed: Type.Integer(),
  delayed: Type.Integer(),
})

const JobsQuery = Type.Object({
  status: Type.Optional(Type.String({ maxLength: 50 })),
  project_id: Type.Optional(Id),
  limit: Type.Optional(Limit(100)),
})

const SpecAuditBody = Type.Object({
  project_id: Type.Optional(Nullable(Id)),
  protocol_id: Type.Optional(Nullable(Id)),
  backfill: Type.Boolean({ default: false }),
  interval_seconds: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
})

export const queueRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (server, { app }) => {
  server.get(
    '/queues',
    {
      schema: {
        tags: ['queues'],
        response: { 200: Type.Object({ backend: Type.String(), default: Counts }), ...ERROR_RESPONSES },
      },
    },
    async () => app.queueStats(),
  )

  server.get(
    '/queues/jobs',
    {
      schema: {
        tags: ['queues'],
        querystring: JobsQuery,
        response: { 200: Type.Array(JobOut), ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { status, project_id: projectId, limit = 100 } = req.query
      return (await app.listJobs({ status, projectId, limit }, contextOf(req))).map(toJobOut)
    },
  )

  server.post(
    '/specs/audit',
    { schema: { tags: ['specs'], body: SpecAuditBody, response: { 200: ActionReply, ...ERROR_RESPONSES } } },
    async (req) => {
      const b = req.body
      const input = {
        projectId: b.project_id ?? null,
        protocolId: b.protocol_id ?? null,
        backfill: b.backfill,
        intervalSeconds: b.interval_seconds ?? null,
      }
      return toActionReply(await app.enqueueSpecAudit(input, contextOf(req)))
    },
  )
}
