import { Type, type TSchema } from '@sinclair/typebox'

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** Any JSON value, passed through unchanged. */
export const AnyJson = Type.Unknown()
export const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown())

export const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })

export const Detail = Type.Object({ detail: Type.String(), code: Type.Optional(Type.String()) })

export const ValidationDetail = Type.Object({
  detail: Type.Array(
    Type.Object({
      type: Type.String(),
      loc: Type.Array(Type.Union([Type.String(), Type.Number()])),
      msg: Type.String(),
    }),
  ),
})

/** The error responses every route may give, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  400: Detail,
  401: Detail,
  403: Detail,
  404: Detail,
  409: Detail,
  // Schema errors list every issue; a rule the app enforces (a git ref, a path) gives one detail string.
  422: Type.Union([ValidationDetail, Detail]),
} as const

export const Limit = (fallback: number) => Type.Integer({ minimum: 1, maximum: 1000, default: fallback })

export const PageQuery = Type.Object({
  limit: Type.Optional(Limit(100)),
  before_id: Type.Optional(Id),
  after_id: Type.Optional(Id),
})

export const JobOut = Type.Object({
  job_id: Type.String(),
  job_type: Type.String(),
  payload: JsonObjectSchema,
  status: Type.String(),
  queue: Type.String(),
  created_at: Type.Number({ description: 'epoch seconds' }),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  next_run_at: Type.Number({ description: 'epoch seconds' }),
  started_at: Nullable(Type.Number()),
  ended_at: Nullable(Type.Number()),
  result: AnyJson,
  error: Nullable(Type.String()),
  meta: Nullable(JsonObjectSchema),
})

export const ActionReply = Type.Object({ message: Type.String(), job: Nullable(JobOut) })
