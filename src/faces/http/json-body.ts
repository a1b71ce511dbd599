import type { FastifyInstance } from 'fastify'
import { AppError } from '../../domain/app-error.js'

/**
 * JSON bodies: an empty body counts as no body (clients often send the header on bodiless
 * POSTs), `__proto__`/`constructor` keys are refused, and malformed JSON is a 400.
 */
export const installJsonParser = (server: FastifyInstance): void => {
  server.removeContentTypeParser('application/json')
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text, refusePrototypeKeys))
    } catch (error) {
      done(
        error instanceof AppError ? error : new AppError('ORC_BAD_REQUEST', 'Malformed JSON body'),
        undefined,
      )
    }
  })
}

const refusePrototypeKeys = (key: string, value: unknown): unknown => {
  if (key === '__proto__' || key === 'constructor') {
    throw new AppError('ORC_BAD_REQUEST', `JSON key ${JSON.stringify(key)} is not allowed`)
  }
  return value
}
