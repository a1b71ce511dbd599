import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { NotificationDelivery, NotificationTarget } from '../../../domain/notification.js'
import type { NotificationUseCases } from '../../../app/notifications/notification-use-cases.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES } from '../schemas/common.schema.js'
import {
  DeliveryOut,
  DeliveryQuery,
  ProjectTargetParams,
  TargetCreate,
  TargetOut,
  TargetUpdate,
  TestSend,
} from '../schemas/notification.schema.js'
import { ProjectParams } from '../schemas/project.schema.js'

/** Outgoing webhooks of a project: receivers (secrets write-only), the delivery log, test-sends. */
export const notificationRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationUseCases }> = async (
  server,
  { notifications },
) => {
  const tags = ['notifications']

  server.get(
    '/projects/:project_id/notification-targets',
    { schema: { tags, params: ProjectParams, response: { 200: Type.Array(TargetOut), ...ERROR_RESPONSES } } },
    async (req) => (await notifications.listTargets(req.params.project_id, contextOf(req))).map(toTargetOut),
  )

  server.post(
    '/projects/:project_id/notification-targets',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: TargetCreate,
        response: { 201: TargetOut, ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      const target = await notifications.createTarget(req.params.project_id, req.body, contextOf(req))
      return reply.status(201).send(toTargetOut(target))
    },
  )

  server.patch(
    '/projects/:project_id/notification-targets/:target_id',
    {
      schema: {
        tags,
        params: ProjectTargetParams,
        body: TargetUpdate,
        response: { 200: TargetOut, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { project_id, target_id } = req.params
      return toTargetOut(await notifications.updateTarget(project_id, target_id, req.body, contextOf(req)))
    },
  )

  server.delete(
    '/projects/:project_id/notification-targets/:target_id',
    { schema: { tags, params: ProjectTargetParams, response: { 204: Type.Null(), ...ERROR_RESPONSES } } },
    async (req, reply) => {
      await notifications.deleteTarget(req.params.project_id, req.params.target_id, contextOf(req))
      return reply.status(204).send(null)
    },
  )

  server.get(
    '/projects/:project_id/notifications',
    {
      schema: {
        tags,
        params: ProjectParams,
        querystring: DeliveryQuery,
        response: { 200: Type.Array(DeliveryOut), ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { limit = 50, before_id: beforeId } = req.query
      const page = { limit, ...(beforeId === undefined ? {} : { beforeId }) }
      return (await notifications.listDeliveries(req.params.project_id, page, contextOf(req))).map(
        toDeliveryOut,
      )
    },
  )

  server.post(
    '/projects/:project_id/notifications/test',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: Type.Optional(TestSend),
        response: { 202: Type.Array(DeliveryOut), ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      const sent = await notifications.testSend(req.params.project_id, req.body?.target_id, contextOf(req))
      return reply.status(202).send(sent.map(toDeliveryOut))
    },
  )
}

const toTargetOut = (target: NotificationTarget) => ({
  id: target.id,
  project_id: target.projectId,
  url: target.url,
  events: [...target.events],
  format: target.format,
  enabled: target.enabled,
  has_secret: target.hasSecret,
  created_at: target.createdAt,
  updated_at: target.updatedAt,
})

const toDeliveryOut = (delivery: NotificationDelivery) => ({
  id: delivery.id,
  project_id: delivery.projectId,
  target_id: delivery.targetId,
  type: delivery.type,
  status: delivery.status,
  attempts: delivery.attempts,
  last_status_code: delivery.lastStatusCode,
  last_error: delivery.lastError,
  payload: delivery.payload,
  created_at: delivery.createdAt,
  updated_at: delivery.updatedAt,
  delivered_at: delivery.deliveredAt,
})
