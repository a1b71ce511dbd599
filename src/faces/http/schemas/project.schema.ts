import { Type } from '@sinclair/typebox'
import { REVIEW_MODES } from '../../../domain/review-mode.js'
import { Id, JsonObjectSchema, Nullable } from './common.schema.js'
import { EngineChainOut, EngineChainSchema } from './engine-chain.schema.js'

const Text = Type.String({ minLength: 1, maxLength: 2000 })

const REVIEW_MODE_TEXT = `What PR/MR review comments do to the project's runs: ${REVIEW_MODES.join(' or ')}; null: TASKSGODZILLA_REVIEW_MODE. A protocol spec's review_mode wins.`
// A string checked by the use case, so a wrong value gets a message naming the modes.
const ReviewModeIn = Type.String({
  maxLength: 100,
  description: REVIEW_MODE_TEXT,
  examples: [...REVIEW_MODES],
})

export const ProjectParams = Type.Object({ project_id: Id })

export const ProjectCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  git_url: Text,
  local_path: Type.Optional(Nullable(Text)),
  base_branch: Type.String({ minLength: 1, maxLength: 200, default: 'main' }),
  ci_provider: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  default_models: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
  engines: Type.Optional(Nullable(EngineChainSchema)),
  secrets: Type.Optional(Nullable(JsonObjectSchema)),
  review_mode: Type.Optional(Nullable(ReviewModeIn)),
})

export const ProjectUpdate = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  base_branch: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  local_path: Type.Optional(Nullable(Text)),
  ci_provider: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  default_models: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
  engines: Type.Optional(Nullable(EngineChainSchema)),
  api_token: Type.Optional(Nullable(Type.String({ minLength: 8, maxLength: 500 }))),
  rotate_api_token: Type.Optional(Type.Boolean()),
  review_mode: Type.Optional(Nullable(ReviewModeIn)),
})

export const ClarificationAnswers = Type.Object({
  answers: Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.Unknown(), { minProperties: 1 }),
})

export const ProjectOut = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  git_url: Type.String(),
  local_path: Nullable(Type.String()),
  base_branch: Type.String(),
  ci_provider: Nullable(Type.String()),
  default_models: Nullable(JsonObjectSchema),
  engines: EngineChainOut,
  secrets: Nullable(
    Type.Record(Type.String(), Type.String(), { description: 'key names only; values are write-only' }),
  ),
  has_api_token: Type.Boolean(),
  clarifications: Nullable(JsonObjectSchema),
  review_mode: Nullable(Type.String({ description: REVIEW_MODE_TEXT })),
  created_at: Type.String(),
  updated_at: Type.String(),
})

export const ProjectUpdated = Type.Composite([
  ProjectOut,
  Type.Object({
    api_token: Type.Optional(Type.String({ description: 'only when just generated; shown once' })),
  }),
])
