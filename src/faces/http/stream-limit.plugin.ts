import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../domain/app-error.js'

export interface StreamLimitOptions {
  /** `TASKSGODZILLA_MAX_STREAMS_PER_TOKEN`: open streams one caller may hold at once. */
  readonly maxPerCaller: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts a long-lived response (SSE, log follow) against its caller until the connection
     * closes; throws ORC_TOO_MANY_STREAMS (429) past the cap. Call before hijacking the reply.
     */
    holdStreamSlot(request: FastifyRequest, reply: FastifyReply): void
  }
}

/**
 * One cap on open streams per caller, shared by `/events/stream` and `/steps/{id}/logs?follow=1`:
 * a caller is its bearer and project tokens (hashed, never kept as such) or, with neither, its
 * address. Without it, one client could hold every socket and file descriptor of the server.
 */
export const streamLimitPlugin = fp<StreamLimitOptions>(async (server: FastifyInstance, { maxPerCaller }) => {
  const open = new Map<string, number>()
  server.decorate('holdStreamSlot', (request: FastifyRequest, reply: FastifyReply) => {
    const caller = callerOf(request)
    const held = open.get(caller) ?? 0
    if (held >= maxPerCaller)
      throw new AppError(
        'ORC_TOO_MANY_STREAMS',
        `Too many open streams for this caller (${held} of ${maxPerCaller}); close one first`,
      )
    open.set(caller, held + 1)
    let released = false
    reply.raw.once('close', () => {
      if (released) return
      released = true
      const left = (open.get(caller) ?? 1) - 1
      if (left > 0) open.set(caller, left)
      else open.delete(caller)
    })
  })
})

const callerOf = (request: FastifyRequest): string => {
  const bearer = request.headers.authorization ?? ''
  const project = request.headers['x-project-token'] ?? ''
  if (bearer === '' && project === '') return `address:${request.ip}`
  const hash = createHash('sha256')
    .update(`${bearer}\0${String(project)}`)
    .digest('hex')
  return `token:${hash}`
}
