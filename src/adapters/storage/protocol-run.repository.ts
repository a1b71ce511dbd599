import type { Kysely } from 'kysely'
import type { Page, ProtocolRunRepository } from '../../app/ports.js'
import { AppError } from '../../domain/app-error.js'
import { encodeJson, nowIso } from './columns.js'
import { toProtocolRun, toProtocolRunColumns } from './protocol-run.table.js'
import { joinedProject, joinedProjectColumns } from './project.table.js'
import type { Database } from './schema.js'
import { isPostgres } from './dialect.js'
import { scopeReadableBy } from './readable-by.js'
import { isUniqueViolation } from './unique-violation.js'

/** A page of a project's runs, newest first. */
const runsOfProject = (db: Kysely<Database>, projectId: number, page: Page) => {
  let query = db.selectFrom('protocol_runs').selectAll().where('project_id', '=', projectId)
  if (page.beforeId !== undefined) query = query.where('id', '<', page.beforeId)
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId)
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit)
}

export const createProtocolRunRepository = (db: Kysely<Database>): ProtocolRunRepository => ({
  async create(run) {
    const now = nowIso()
    try {
      const row = await db
        .insertInto('protocol_runs')
        .values({
          project_id: run.projectId,
          protocol_name: run.protocolName,
          status: run.status,
          base_branch: run.baseBranch,
          branch_name: run.branchName ?? run.protocolName,
          worktree_path: run.worktreePath ?? null,
          protocol_root: run.protocolRoot ?? null,
          description: run.description ?? null,
          template_config: encodeJson(run.templateConfig),
          template_source: encodeJson(run.templateSource),
          pr_url: null,
          pr_number: null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toProtocolRun(row)
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      throw new AppError(
        'ORC_DUPLICATE_PROTOCOL_NAME',
        `Project ${run.projectId} already has a protocol named ${run.protocolName}`,
      )
    }
  },

  async findById(id) {
    const row = await db.selectFrom('protocol_runs').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toProtocolRun(row) : undefined
  },

  async lockById(id) {
    const query = db.selectFrom('protocol_runs').selectAll().where('id', '=', id)
    const row = await (isPostgres(db) ? query.forNoKeyUpdate() : query).executeTakeFirst()
    return row ? toProtocolRun(row) : undefined
  },

  async findWithProject(id) {
    const row = await db
      .selectFrom('protocol_runs as r')
      .innerJoin('projects as p', 'p.id', 'r.project_id')
      .selectAll('r')
      .select(joinedProjectColumns('p'))
      .where('r.id', '=', id)
      .executeTakeFirst()
    return row ? { run: toProtocolRun(row), project: joinedProject(row) } : undefined
  },

  async findWithProjectTokenHash(id) {
    const row = await db
      .selectFrom('protocol_runs as r')
      .innerJoin('projects as p', 'p.id', 'r.project_id')
      .selectAll('r')
      .select('p.api_token_hash as project_token_hash')
      .where('r.id', '=', id)
      .executeTakeFirst()
    return row ? { run: toProtocolRun(row), projectTokenHash: row.project_token_hash } : undefined
  },

  async findProjectTokenHash(id) {
    return db
      .selectFrom('protocol_runs as r')
      .innerJoin('projects as p', 'p.id', 'r.project_id')
      .select('p.api_token_hash as projectTokenHash')
      .where('r.id', '=', id)
      .executeTakeFirst()
  },

  async listByProject(projectId, page) {
    return (await runsOfProject(db, projectId, page).execute()).map(toProtocolRun)
  },

  async listByProjectFor(projectId, page, reader) {
    const rows = await runsOfProject(db, projectId, page)
      .where(scopeReadableBy({ kind: 'project', id: projectId }, reader))
      .execute()
    return rows.map(toProtocolRun)
  },

  async findByBranch(branch, projectId) {
    let query = db.selectFrom('protocol_runs').selectAll().where('branch_name', '=', branch)
    if (projectId !== undefined) query = query.where('project_id', '=', projectId)
    const rows = await query.orderBy('id', 'desc').execute()
    return rows.map(toProtocolRun)
  },

  async compareAndSetStatus(id, from, to, patch = {}) {
    const row = await db
      .updateTable('protocol_runs')
      .set({ ...toProtocolRunColumns(patch), status: to, updated_at: nowIso() })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst()
    if (!row)
      throw new AppError('ORC_STATE_CHANGED', 'Protocol state changed; retry', { protocol_run_id: id })
    return toProtocolRun(row)
  },

  async update(id, patch) {
    const row = await db
      .updateTable('protocol_runs')
      .set({ ...toProtocolRunColumns(patch), updated_at: nowIso() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    return row ? toProtocolRun(row) : undefined
  },

  async addUsage(id, tokens, costUsd) {
    await db
      .updateTable('protocol_runs')
      .set((eb) => ({
        tokens_used: eb('tokens_used', '+', tokens),
        cost_usd: eb('cost_usd', '+', costUsd),
        updated_at: nowIso(),
      }))
      .where('id', '=', id)
      .execute()
  },
})
