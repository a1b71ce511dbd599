import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { App } from '../../../app/app.js'
import type { EventWatch, WatchFilter } from '../../../app/events/watch-events.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { resumeIdOf, streamEvents } from '../event-stream.js'
import { toEventOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES, Id } from '../schemas/common.schema.js'
import { EventOut, EventQuery, RunEventQuery } from '../schemas/event.schema.js'
import { RunParams } from '../schemas/protocol.schema.js'

export interface EventRouteDeps {
  readonly app: App
  readonly watchEvents: (filter: WatchFilter, ctx: ChangeOrigin) => Promise<EventWatch>
}

const StreamQuery = Type.Object({
  project_id: Type.Optional(Id),
  protocol_run_id: Type.Optional(Id),
  event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  last_event_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
})

export const eventRoutes: FastifyPluginAsyncTypebox<EventRouteDeps> = async (
  server,
  { app, watchEvents },
) => {
  const tags = ['events']
  // Live streams never go idle, so the server ends them itself when it closes.
  const openStreams = new Set<() => void>()
  server.addHook('preClose', async () => [...openStreams].forEach((end) => end()))

  server.get(
    '/protocols/:protocol_run_id/events',
    {
      config: { memoize: 'events' },
      schema: {
        tags,
        params: RunParams,
        querystring: RunEventQuery,
        response: { 200: Type.Array(EventOut), ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { limit = 100, event_type: eventType, before_id: beforeId, after_id: afterId } = req.query
      const query = { protocolRunId: req.params.protocol_run_id, eventType, beforeId, afterId, limit }
      return (await app.listEvents(query, contextOf(req))).map(toEventOut)
    },
  )

  server.get(
    '/events',
    {
      config: { memoize: true },
      schema: { tags, querystring: EventQuery, response: { 200: Type.Array(EventOut), ...ERROR_RESPONSES } },
    },
    async (req) => {
      const q = req.query
      // The original treated project_id=0 as "no project": an empty list, no token check.
      if (q.project_id === 0) return []
      const since = q.since === undefined ? undefined : new Date(q.since).toISOString()
      const query = {
        projectId: q.project_id,
        protocolRunId: q.protocol_run_id,
        eventType: q.event_type,
        since,
        beforeId: q.before_id,
        afterId: q.after_id,
        limit: q.limit ?? 50,
      }
      return (await app.listEvents(query, contextOf(req))).map(toEventOut)
    },
  )

  server.get(
    '/events/stream',
    {
      schema: {
        tags,
        querystring: StreamQuery,
        description: 'Server-Sent Events: every new event as it commits; resume with Last-Event-ID.',
      },
    },
    async (req, reply) => {
      const q = req.query
      const filter = { projectId: q.project_id, protocolRunId: q.protocol_run_id, eventType: q.event_type }
      server.holdStreamSlot(req, reply)
      const watch = await watchEvents(filter, contextOf(req))
      await streamEvents(req, reply, watch, resumeIdOf(req, q.last_event_id), openStreams)
    },
  )
}
