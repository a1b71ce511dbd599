import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

/**
 * Takes the caller's `X-Request-ID` when it is short and plain (else makes a new one), so that it
 * can go into logs and event metadata without being a vector for log injection; echoes it on
 * every response, errors included.
 */
export const requestIdFor = (header: string | string[] | undefined): string =>
  typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID()

export const requestIdPlugin = fp(async (server: FastifyInstance) => {
  server.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
})
