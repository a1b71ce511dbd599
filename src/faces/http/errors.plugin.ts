import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isAppError } from '../../domain/app-error.js'
import { ERROR_STATUS } from './error-status.js'

interface ValidationIssue {
  readonly type: string
  readonly loc: (string | number)[]
  readonly msg: string
}

/**
 * Renders every failure in the original's shapes: `{"detail": message, "code"}` for application
 * errors, `{"detail": [{type, loc, msg}]}` with 422 for schema errors, and a generic 500 (logged
 * with its cause, never echoed) for anything unexpected.
 */
export const errorsPlugin = fp(async (server: FastifyInstance) => {
  server.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (isAppError(error) && error.code === 'ORC_VALIDATION_FAILED') {
      const field = typeof error.details?.field === 'string' ? [error.details.field] : []
      return reply
        .status(422)
        .send({ detail: [{ type: 'value_error', loc: ['body', ...field], msg: error.message }] })
    }
    if (isAppError(error)) {
      return reply.status(ERROR_STATUS[error.code]).send({ detail: error.message, code: error.code })
    }
    if (error.validation) {
      const where = LOCATION[error.validationContext ?? 'body'] ?? 'body'
      return reply.status(422).send({ detail: error.validation.map((issue) => toIssue(where, issue)) })
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ detail: clientMessage(error), code: error.code })
    }
    request.log.error({ err: error }, 'unhandled error')
    return reply.status(500).send({ detail: 'Internal Server Error', code: 'ORC_INTERNAL' })
  })
})

/** FastAPI's names for where a value came from. */
const LOCATION: Record<string, string> = {
  body: 'body',
  params: 'path',
  querystring: 'query',
  headers: 'header',
}

const toIssue = (
  where: string,
  issue: { instancePath?: string; keyword?: string; message?: string; params?: Record<string, unknown> },
): ValidationIssue => {
  const path = (issue.instancePath ?? '').split('/').filter(Boolean)
  const missing = issue.keyword === 'required' ? String(issue.params?.missingProperty ?? '') : undefined
  return {
    type: missing !== undefined ? 'missing' : issueType(issue.keyword, issue.params),
    loc: [where, ...path, ...(missing ? [missing] : [])],
    msg: missing !== undefined ? 'Field required' : (issue.message ?? 'Invalid value'),
  }
}

/** Pydantic-style type names where one exists (`string_type`, `greater_than_equal`), else Ajv's keyword. */
const issueType = (keyword: string | undefined, params: Record<string, unknown> | undefined): string => {
  if (keyword === 'type') return `${String(params?.type ?? 'value')}_type`
  const names: Record<string, string> = {
    minimum: 'greater_than_equal',
    maximum: 'less_than_equal',
    minLength: 'string_too_short',
    maxLength: 'string_too_long',
    enum: 'enum',
    const: 'literal_error',
    anyOf: 'union_type',
    format: 'format',
  }
  return names[keyword ?? ''] ?? keyword ?? 'invalid'
}

const clientMessage = (error: FastifyError): string => {
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return 'Malformed JSON body'
  return error.message
}
