import type { Kysely, Updateable } from 'kysely'
import type { ProjectRepository } from '../../app/ports.js'
import { engineChainJson } from '../../domain/engine-chain.js'
import type { ProjectPatch } from '../../domain/project.js'
import { decodeJsonObject, encodeJson, nowIso } from './columns.js'
import { toProject, toProjectCredentials } from './project.table.js'
import type { Database, ProjectsTable } from './schema.js'

export const createProjectRepository = (db: Kysely<Database>): ProjectRepository => ({
  async create(project) {
    const now = nowIso()
    const row = await db
      .insertInto('projects')
      .values({
        name: project.name,
        git_url: project.gitUrl,
        base_branch: project.baseBranch,
        local_path: project.localPath,
        ci_provider: project.ciProvider,
        default_models: encodeJson(project.defaultModels),
        engines: project.engines ? encodeJson(engineChainJson(project.engines)) : null,
        secrets: encodeJson(project.secrets),
        api_token_hash: project.apiTokenHash,
        clarifications: null,
        review_mode: project.reviewMode ?? null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toProject(row)
  },

  async findById(id) {
    const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toProject(row) : undefined
  },

  async list(page) {
    let query = db.selectFrom('projects').selectAll()
    if (page.excludeIds !== undefined && page.excludeIds.length > 0)
      query = query.where('id', 'not in', [...page.excludeIds])
    if (page.beforeId !== undefined) query = query.where('id', '<', page.beforeId)
    if (page.afterId !== undefined) query = query.where('id', '>', page.afterId)
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute()
    return rows.map(toProject)
  },

  async update(id, patch) {
    const row = await db
      .updateTable('projects')
      .set({ ...toColumns(patch), updated_at: nowIso() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    return row ? toProject(row) : undefined
  },

  async listWebhookSecrets() {
    const rows = await db
      .selectFrom('projects')
      .select(['id', 'secrets', 'git_url'])
      .where('secrets', 'is not', null)
      .execute()
    return rows.flatMap((row) => {
      const secret = decodeJsonObject(row.secrets)?.webhook_secret
      return typeof secret === 'string' && secret !== ''
        ? [{ projectId: row.id, secret, gitUrl: row.git_url }]
        : []
    })
  },

  async listTokenHashes() {
    const rows = await db
      .selectFrom('projects')
      .select(['id', 'api_token_hash'])
      .where('api_token_hash', 'is not', null)
      .execute()
    return rows.map((row) => ({ projectId: row.id, apiTokenHash: row.api_token_hash ?? '' }))
  },

  async tokenSetVersion() {
    const row = await db
      .selectFrom('projects')
      .select((eb) => [eb.fn.countAll<number | string>().as('count'), eb.fn.max('updated_at').as('latest')])
      .where('api_token_hash', 'is not', null)
      .executeTakeFirst()
    // Postgres hands timestamptz back as a Date: keep its milliseconds (String() would drop them).
    const latest = row?.latest instanceof Date ? row.latest.toISOString() : String(row?.latest ?? '')
    return `${String(row?.count ?? 0)}:${latest}`
  },

  async findCredentials(id) {
    const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toProjectCredentials(row) : undefined
  },

  async findWithCredentials(id) {
    const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? { project: toProject(row), credentials: toProjectCredentials(row) } : undefined
  },
})

const toColumns = (patch: ProjectPatch): Updateable<ProjectsTable> => {
  const columns: Updateable<ProjectsTable> = {}
  if (patch.name !== undefined) columns.name = patch.name
  if (patch.baseBranch !== undefined) columns.base_branch = patch.baseBranch
  if (patch.localPath !== undefined) columns.local_path = patch.localPath
  if (patch.ciProvider !== undefined) columns.ci_provider = patch.ciProvider
  if (patch.defaultModels !== undefined) columns.default_models = encodeJson(patch.defaultModels)
  if (patch.engines !== undefined)
    columns.engines = patch.engines === null ? null : encodeJson(engineChainJson(patch.engines))
  if (patch.apiTokenHash !== undefined) columns.api_token_hash = patch.apiTokenHash
  if (patch.clarifications !== undefined) columns.clarifications = encodeJson(patch.clarifications)
  if (patch.secrets !== undefined) columns.secrets = encodeJson(patch.secrets)
  if (patch.reviewMode !== undefined) columns.review_mode = patch.reviewMode
  return columns
}
