import { Type } from '@sinclair/typebox'
import { NOTIFICATION_FORMATS, NOTIFICATION_TYPES } from '../../../domain/notification.js'
import { Id, JsonObjectSchema, Limit, Nullable } from './common.schema.js'

const EventName = Type.Union(NOTIFICATION_TYPES.map((type) => Type.Literal(type)))
const Format = Type.Union(NOTIFICATION_FORMATS.map((format) => Type.Literal(format)))
const Url = Type.String({ minLength: 1, maxLength: 2048 })
const Secret = Type.String({ minLength: 1, maxLength: 512, description: 'write-only: never returned' })

export const ProjectTargetParams = Type.Object({ project_id: Id, target_id: Id })

export const TargetCreate = Type.Object(
  {
    url: Url,
    secret: Type.Optional(Nullable(Secret)),
    events: Type.Optional(Type.Array(EventName, { maxItems: NOTIFICATION_TYPES.length, uniqueItems: true })),
    format: Type.Optional(Format),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const TargetUpdate = Type.Partial(TargetCreate, { additionalProperties: false })

export const TargetOut = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  format: Type.String(),
  enabled: Type.Boolean(),
  has_secret: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
})

export const DeliveryOut = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  target_id: Nullable(Type.Integer({ description: 'null: the global default receiver' })),
  type: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  payload: JsonObjectSchema,
  created_at: Type.String(),
  updated_at: Type.String(),
  delivered_at: Nullable(Type.String()),
})

export const DeliveryQuery = Type.Object({ limit: Type.Optional(Limit(50)), before_id: Type.Optional(Id) })

export const TestSend = Type.Object({ target_id: Type.Optional(Id) }, { additionalProperties: false })
