import { Type } from '@sinclair/typebox'
import { Id, JsonObjectSchema, Limit, Nullable } from './common.schema.js'

export const EventOut = Type.Object({
  id: Type.Integer(),
  protocol_run_id: Nullable(Type.Integer()),
  step_run_id: Nullable(Type.Integer()),
  event_type: Type.String(),
  message: Type.String(),
  created_at: Type.String(),
  metadata: Nullable(JsonObjectSchema),
  protocol_name: Nullable(Type.String()),
  project_id: Type.Integer(),
  project_name: Nullable(Type.String()),
})

export const EventQuery = Type.Object({
  limit: Type.Optional(Limit(50)),
  project_id: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
  protocol_run_id: Type.Optional(Id),
  event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  before_id: Type.Optional(Id),
  after_id: Type.Optional(Id),
})

export const RunEventQuery = Type.Object({
  limit: Type.Optional(Limit(100)),
  event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  before_id: Type.Optional(Id),
  after_id: Type.Optional(Id),
})
