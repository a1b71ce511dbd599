import type { Selectable, Updateable } from 'kysely'
import type { ProtocolRun, ProtocolRunPatch } from '../../domain/protocol-run.js'
import type { ProtocolStatus } from '../../domain/statuses.js'
import { decodeJsonObject, decodeSharedJsonObject, encodeJson, toIso } from './columns.js'
import { everyColumn, prefixedSelection, unprefixedRow } from './joined-rows.js'
import type { ProtocolRunsTable } from './schema.js'

export type ProtocolRunRow = Selectable<ProtocolRunsTable>

/** Every column of `protocol_runs`, for reads that join it (joined-rows.ts). */
export const PROTOCOL_RUN_COLUMNS = everyColumn<ProtocolRunRow>()([
  'id',
  'project_id',
  'protocol_name',
  'status',
  'base_branch',
  'branch_name',
  'worktree_path',
  'protocol_root',
  'description',
  'template_config',
  'template_source',
  'pr_url',
  'pr_number',
  'tokens_used',
  'cost_usd',
  'created_at',
  'updated_at',
  'txid',
])

/** Where a joined read puts the run's columns (under their names after this prefix). */
const JOINED_PREFIX = 'run__'

/** The select list of a read that joins `protocol_runs` as `alias`: every column, prefixed. */
export const joinedRunColumns = (alias: string) =>
  prefixedSelection(alias, PROTOCOL_RUN_COLUMNS, JOINED_PREFIX)

/** The run out of a row read with `joinedRunColumns`. */
export const joinedRun = (row: Readonly<Record<string, unknown>>): ProtocolRun =>
  toProtocolRun(unprefixedRow<ProtocolRunRow>(row, PROTOCOL_RUN_COLUMNS, JOINED_PREFIX))

export const toProtocolRun = (row: ProtocolRunRow): ProtocolRun => ({
  id: row.id,
  projectId: row.project_id,
  protocolName: row.protocol_name,
  // Only the transition table writes this column, so it always holds a known status.
  status: row.status as ProtocolStatus,
  baseBranch: row.base_branch,
  branchName: row.branch_name,
  worktreePath: row.worktree_path,
  protocolRoot: row.protocol_root,
  description: row.description,
  templateConfig: decodeSharedJsonObject(row.template_config),
  templateSource: decodeJsonObject(row.template_source),
  prUrl: row.pr_url,
  prNumber: row.pr_number,
  tokensUsed: Number(row.tokens_used),
  costUsd: Number(row.cost_usd),
  createdAt: toIso(row.created_at),
  updatedAt: toIso(row.updated_at),
})

export const toProtocolRunColumns = (patch: ProtocolRunPatch): Updateable<ProtocolRunsTable> => {
  const columns: Updateable<ProtocolRunsTable> = {}
  if (patch.worktreePath !== undefined) columns.worktree_path = patch.worktreePath
  if (patch.protocolRoot !== undefined) columns.protocol_root = patch.protocolRoot
  if (patch.description !== undefined) columns.description = patch.description
  if (patch.templateConfig !== undefined) columns.template_config = encodeJson(patch.templateConfig)
  if (patch.templateSource !== undefined) columns.template_source = encodeJson(patch.templateSource)
  if (patch.prUrl !== undefined) columns.pr_url = patch.prUrl
  if (patch.prNumber !== undefined) columns.pr_number = patch.prNumber
  if (patch.tokensUsed !== undefined) columns.tokens_used = patch.tokensUsed
  if (patch.costUsd !== undefined) columns.cost_usd = patch.costUsd
  if (patch.baseBranch !== undefined) columns.base_branch = patch.baseBranch
  return columns
}
