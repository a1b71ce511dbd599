import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../../domain/app-error.js'

export interface StreamLimitOptions {
  /** `TASKSGODZILLA_MAX_STREAMS_PER_TOKEN`: open streams one caller may hold at once. */
  readonly maxPerCaller: number
  /** `TASKSGODZILLA_MAX_STREAMS`: open streams of the process, all callers together. */
  readonly maxTotal: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts a long-lived response (SSE, log follow) against its caller until the connection
     * closes; throws ORC_TOO_MANY_STREAMS (429) past the caller's cap and ORC_STREAMS_FULL (503)
     * past the process's. Call before hijacking the reply.
     */
    holdStreamSlot(request: FastifyRequest, reply: FastifyReply): void
  }
}

/**
 * Caps on open streams, shared by `/events/stream` and `/steps/{id}/logs?follow=1`: one per caller
 * (its bearer and project tokens, hashed, never kept as such, or with neither its address), so one
 * client cannot hold every socket and file descriptor of the server; and one for the process, so
 * many callers together cannot either, and the memory streams hold stays bounded.
 */
export const streamLimitPlugin = fp<StreamLimitOptions>(
  async (server: FastifyInstance, { maxPerCaller, maxTotal }) => {
    const open = new Map<string, number>()
    let total = 0
    server.decorate('holdStreamSlot', (request: FastifyRequest, reply: FastifyReply) => {
      const caller = callerOf(request)
      const held = open.get(caller) ?? 0
      if (held >= maxPerCaller)
        throw new AppError(
          'ORC_TOO_MANY_STREAMS',
          `Too many open streams for this caller (${held} of ${maxPerCaller}); close one first`,
        )
      if (total >= maxTotal)
        throw new AppError(
          'ORC_STREAMS_FULL',
          `The server holds its maximum of ${maxTotal} open streams; retry later`,
        )
      open.set(caller, held + 1)
      total++
      let released = false
      reply.raw.once('close', () => {
        if (released) return
        released = true
        total--
        const left = (open.get(caller) ?? 1) - 1
        if (left > 0) open.set(caller, left)
        else open.delete(caller)
      })
    })
  },
)

const callerOf = (request: FastifyRequest): string => {
  const bearer = request.headers.authorization ?? ''
  const project = request.headers['x-project-token'] ?? ''
  if (bearer === '' && project === '') return `address:${request.ip}`
  const hash = createHash('sha256')
    .update(`${bearer}\0${String(project)}`)
    .digest('hex')
  return `token:${hash}`
}
