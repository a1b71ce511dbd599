import { Type } from '@sinclair/typebox'
import { PROTOCOL_STATUSES, STEP_STATUSES } from '../../../domain/statuses.js'
import { AnyJson, Id, JsonObjectSchema, Nullable } from './common.schema.js'
import { EngineChainOut, EngineChainSchema } from './engine-chain.schema.js'

export const RunParams = Type.Object({ protocol_run_id: Id })
export const StepParams = Type.Object({ step_run_id: Id })

const Path = Type.String({ minLength: 1, maxLength: 2000 })

export const ProtocolStatusSchema = Type.Union(PROTOCOL_STATUSES.map((s) => Type.Literal(s)))
export const StepStatusSchema = Type.Union(STEP_STATUSES.map((s) => Type.Literal(s)))

export const ProtocolCreate = Type.Object({
  protocol_name: Type.String({ minLength: 1, maxLength: 100 }),
  status: Type.Optional(ProtocolStatusSchema),
  base_branch: Type.String({ minLength: 1, maxLength: 200, default: 'main' }),
  worktree_path: Type.Optional(Nullable(Path)),
  protocol_root: Type.Optional(Nullable(Path)),
  description: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
  template_config: Type.Optional(Nullable(JsonObjectSchema)),
  template_source: Type.Optional(Nullable(JsonObjectSchema)),
})

export const ProtocolRunOut = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  protocol_name: Type.String(),
  status: Type.String(),
  base_branch: Type.String(),
  branch_name: Type.String(),
  worktree_path: Nullable(Type.String()),
  protocol_root: Nullable(Type.String()),
  description: Nullable(Type.String()),
  template_config: Nullable(JsonObjectSchema),
  template_source: Nullable(JsonObjectSchema),
  pr_url: Nullable(Type.String()),
  pr_number: Nullable(Type.Integer()),
  tokens_used: Type.Integer(),
  cost: Type.Number(),
  created_at: Type.String(),
  updated_at: Type.String(),
  spec_hash: Nullable(Type.String()),
  spec_validation_status: Nullable(Type.String()),
  spec_validated_at: Nullable(Type.String()),
})

export const SpecOut = Type.Object({
  protocol_run_id: Type.Integer(),
  protocol_name: Type.String(),
  project_id: Type.Integer(),
  spec: Nullable(JsonObjectSchema),
  spec_hash: Nullable(Type.String()),
  validation_status: Nullable(Type.String()),
  validation_errors: Nullable(Type.Array(Type.String())),
  validated_at: Nullable(Type.String()),
})

const PolicyObject = JsonObjectSchema

export const StepCreate = Type.Object({
  step_index: Type.Integer({ minimum: 0, maximum: 100_000 }),
  step_name: Type.String({ minLength: 1, maxLength: 200 }),
  step_type: Type.String({ minLength: 1, maxLength: 50 }),
  status: Type.Optional(StepStatusSchema),
  model: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  summary: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
  engine_id: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  engines: Type.Optional(Nullable(EngineChainSchema)),
  policy: Type.Optional(Nullable(Type.Union([PolicyObject, Type.Array(PolicyObject)]))),
})

export const StepRunOut = Type.Object({
  id: Type.Integer(),
  protocol_run_id: Type.Integer(),
  step_index: Type.Integer(),
  step_name: Type.String(),
  step_type: Type.String(),
  status: Type.String(),
  retries: Type.Integer(),
  model: Nullable(Type.String()),
  engine_id: Nullable(Type.String()),
  engines: EngineChainOut,
  policy: AnyJson,
  runtime_state: Nullable(JsonObjectSchema),
  summary: Nullable(Type.String()),
  tokens_used: Type.Integer(),
  cost: Type.Number(),
  head_sha: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
})
