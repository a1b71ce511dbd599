import type { Selectable } from 'kysely'
import { toEngineChain } from '../../domain/engine-chain.js'
import type { Project, ProjectCredentials } from '../../domain/project.js'
import { isReviewMode } from '../../domain/review-mode.js'
import { decodeJson, decodeJsonObject, toIso } from './columns.js'
import { everyColumn, prefixedSelection, unprefixedRow } from './joined-rows.js'
import type { ProjectsTable } from './schema.js'

export type ProjectRow = Selectable<ProjectsTable>

/** Every column of `projects`, for reads that join it (joined-rows.ts). */
export const PROJECT_COLUMNS = everyColumn<ProjectRow>()([
  'id',
  'name',
  'git_url',
  'base_branch',
  'local_path',
  'ci_provider',
  'secrets',
  'api_token_hash',
  'default_models',
  'engines',
  'clarifications',
  'review_mode',
  'created_at',
  'updated_at',
  'txid',
])

/** Where a joined read puts the project's columns (under their names after this prefix). */
const JOINED_PREFIX = 'project__'

/** The select list of a read that joins `projects` as `alias`: every column, prefixed. */
export const joinedProjectColumns = (alias: string) =>
  prefixedSelection(alias, PROJECT_COLUMNS, JOINED_PREFIX)

/** The project out of a row read with `joinedProjectColumns`. */
export const joinedProject = (row: Readonly<Record<string, unknown>>): Project =>
  toProject(unprefixedRow<ProjectRow>(row, PROJECT_COLUMNS, JOINED_PREFIX))

export const toProject = (row: ProjectRow): Project => {
  const secrets = decodeJsonObject(row.secrets) ?? {}
  return {
    id: row.id,
    name: row.name,
    gitUrl: row.git_url,
    baseBranch: row.base_branch,
    localPath: row.local_path,
    ciProvider: row.ci_provider,
    defaultModels: decodeJsonObject(row.default_models),
    engines: toEngineChain(decodeJson(row.engines)) ?? null,
    secretKeys: Object.keys(secrets).sort(),
    hasApiToken: row.api_token_hash !== null,
    clarifications: decodeJsonObject(row.clarifications),
    reviewMode: isReviewMode(row.review_mode) ? row.review_mode : null,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  }
}

export const toProjectCredentials = (row: ProjectRow): ProjectCredentials => ({
  projectId: row.id,
  apiTokenHash: row.api_token_hash,
  secrets: decodeJsonObject(row.secrets) ?? {},
})
