import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import type { WebhookDelivery } from '../../../app/webhooks/receive-webhook.js'
import type { CiProvider } from '../../../domain/ci-notice.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { contextOf } from '../request-context.js'
import { ActionReply, Detail } from '../schemas/common.schema.js'

export interface WebhookRouteDeps {
  readonly receiveWebhook: (delivery: WebhookDelivery, ctx: ChangeOrigin) => Promise<{ message: string }>
}

const WebhookQuery = Type.Object({ protocol_run_id: Type.Optional(Type.Integer({ minimum: 0 })) })

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * GitHub and GitLab deliveries. Exempt from the bearer token (providers cannot send it): each
 * is authenticated by its own signature over the raw body, which is why this plugin keeps bodies
 * as bytes and parses them only after verification.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRouteDeps> = async (
  server,
  { receiveWebhook },
) => {
  server.removeAllContentTypeParsers()
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  const schema = {
    tags: ['webhooks'],
    querystring: WebhookQuery,
    response: { 200: ActionReply, 400: Detail, 401: Detail, 404: Detail, 409: Detail },
  }

  const route = (
    provider: CiProvider,
    headers: (request: FastifyRequest) => Omit<WebhookDelivery, 'provider' | 'rawBody' | 'protocolRunId'>,
  ) =>
    server.post(`/webhooks/${provider}`, { schema }, async (req) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const runId = req.query.protocol_run_id
      const delivery = { provider, rawBody, protocolRunId: runId === 0 ? undefined : runId, ...headers(req) }
      const { message } = await receiveWebhook(delivery, contextOf(req))
      return { message, job: null }
    })

  route('github', (req) => ({
    event: header(req, 'x-github-event') ?? 'github',
    deliveryId: header(req, 'x-github-delivery'),
    signature: header(req, 'x-hub-signature-256'),
    token: undefined,
  }))
  route('gitlab', (req) => ({
    event: header(req, 'x-gitlab-event') ?? 'gitlab',
    deliveryId: header(req, 'x-gitlab-event-uuid') ?? header(req, 'x-gitlab-webhook-uuid'),
    signature: header(req, 'x-gitlab-signature-256'),
    token: header(req, 'x-gitlab-token') ?? header(req, 'x-tasksgodzilla-webhook-token'),
  }))
}
