import type { FastifyRequest } from 'fastify'
import type { ChangeOrigin } from '../../app/context.js'

/** The request id (already sanitised) and the project token the caller presented. */
export const contextOf = (request: FastifyRequest): ChangeOrigin => {
  const token = request.headers['x-project-token']
  return typeof token === 'string' && token !== ''
    ? { requestId: request.id, projectToken: token }
    : { requestId: request.id }
}
