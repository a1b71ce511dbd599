import { Ajv, type Options } from 'ajv'
import formatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module object.
const addFormats = formatsModule as unknown as typeof formatsModule.default

const base: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false }

const make = (coerceTypes: boolean | 'array'): Ajv => {
  const ajv = new Ajv({ ...base, coerceTypes })
  addFormats(ajv)
  return ajv
}

/**
 * Path, query and header values arrive as text, so they are coerced ("3" → 3); JSON bodies are
 * not, so `{"name": 123}` is a 422 rather than silently becoming "123".
 */
export const createValidatorCompiler = (): FastifySchemaCompiler<unknown> => {
  const coercing = make('array')
  const strict = make(false)
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object)
}
