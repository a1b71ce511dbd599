import { Type } from '@sinclair/typebox'
import { Nullable } from './common.schema.js'

/** An engine/model fallback chain (1 to 5 entries; engines must be registered). */
export const EngineChainSchema = Type.Array(
  Type.Object({ engine: Type.String(), model: Type.Optional(Nullable(Type.String())) }),
  {
    description:
      'Engine/model fallback chain for step execution: on a usage limit or a missing binary the next entry runs (1 to 5 entries).',
  },
)

/** A stored chain as the API returns it (null: none at this level). */
export const EngineChainOut = Nullable(
  Type.Array(Type.Object({ engine: Type.String(), model: Nullable(Type.String()) })),
)
