import { sql, type Selectable, type UpdateObject } from 'kysely'
import { toEngineChain } from '../../domain/engine-chain.js'
import type { StepStatus } from '../../domain/statuses.js'
import type { StepRun, StepRunPatch } from '../../domain/step-run.js'
import { decodeJson, decodeJsonObject, encodeJson, toIso } from './columns.js'
import type { Database, StepRunsTable } from './schema.js'

export type StepRunRow = Selectable<StepRunsTable>

export const toStepRun = (row: StepRunRow): StepRun => ({
  id: row.id,
  protocolRunId: row.protocol_run_id,
  stepIndex: row.step_index,
  stepName: row.step_name,
  stepType: row.step_type,
  // Only the transition table writes this column, so it always holds a known status.
  status: row.status as StepStatus,
  retries: Number(row.retries),
  model: row.model,
  engineId: row.engine_id,
  engines: toEngineChain(decodeJson(row.engines)) ?? null,
  policy: decodeJson(row.policy),
  runtimeState: decodeJsonObject(row.runtime_state),
  summary: row.summary,
  tokensUsed: Number(row.tokens_used),
  costUsd: Number(row.cost_usd),
  headSha: row.head_sha,
  headSeq: row.head_seq === null ? null : Number(row.head_seq),
  createdAt: toIso(row.created_at),
  updatedAt: toIso(row.updated_at),
})

export const toStepRunColumns = (patch: StepRunPatch): UpdateObject<Database, 'step_runs'> => {
  const columns: UpdateObject<Database, 'step_runs'> = {}
  if (patch.summary !== undefined) columns.summary = patch.summary
  if (patch.model !== undefined) columns.model = patch.model
  if (patch.engineId !== undefined) columns.engine_id = patch.engineId
  if (patch.runtimeState !== undefined) columns.runtime_state = encodeJson(patch.runtimeState)
  if (patch.retries !== undefined) columns.retries = patch.retries
  if (patch.policy !== undefined) columns.policy = encodeJson(patch.policy)
  if (patch.tokensUsed !== undefined) columns.tokens_used = patch.tokensUsed
  if (patch.costUsd !== undefined) columns.cost_usd = patch.costUsd
  if (patch.headSha !== undefined) {
    columns.head_sha = patch.headSha
    // Next in the run's execution order, computed in the same statement so concurrent writers never share one.
    columns.head_seq = sql<number>`(select coalesce(max(s2.head_seq), 0) + 1 from step_runs as s2 where s2.protocol_run_id = step_runs.protocol_run_id)`
  }
  return columns
}
