import type { Kysely } from 'kysely'
import type { StepRunRepository } from '../../app/ports.js'
import { AppError } from '../../domain/app-error.js'
import { encodeJson, nowIso } from './columns.js'
import { mergeExpression } from './json-merge.js'
import type { Database } from './schema.js'
import { toStepRun, toStepRunColumns } from './step-run.table.js'
import { isUniqueViolation } from './unique-violation.js'

export const createStepRunRepository = (db: Kysely<Database>): StepRunRepository => ({
  async create(step) {
    const now = nowIso()
    const row = await db
      .insertInto('step_runs')
      .values({
        protocol_run_id: step.protocolRunId,
        step_index: step.stepIndex,
        step_name: step.stepName,
        step_type: step.stepType,
        status: step.status,
        model: step.model ?? null,
        engine_id: step.engineId ?? null,
        policy: encodeJson(step.policy),
        runtime_state: null,
        summary: step.summary ?? null,
        head_sha: null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        if (!isUniqueViolation(error)) throw error
        throw new AppError(
          'ORC_CONFLICT',
          `Protocol run ${step.protocolRunId} already has a step named ${step.stepName}`,
        )
      })
    return toStepRun(row)
  },

  async findById(id) {
    const row = await db.selectFrom('step_runs').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toStepRun(row) : undefined
  },

  async findWithProjectId(id) {
    const row = await db
      .selectFrom('step_runs as s')
      .innerJoin('protocol_runs as r', 'r.id', 's.protocol_run_id')
      .selectAll('s')
      .select('r.project_id as run_project_id')
      .where('s.id', '=', id)
      .executeTakeFirst()
    return row ? { step: toStepRun(row), projectId: row.run_project_id } : undefined
  },

  async listByRun(protocolRunId) {
    const rows = await db
      .selectFrom('step_runs')
      .selectAll()
      .where('protocol_run_id', '=', protocolRunId)
      .orderBy('step_index', 'asc')
      .orderBy('id', 'asc')
      .execute()
    return rows.map(toStepRun)
  },

  async compareAndSetStatus(id, from, to, patch = {}) {
    const row = await db
      .updateTable('step_runs')
      .set({ ...toStepRunColumns(patch), status: to, updated_at: nowIso() })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new AppError('ORC_STATE_CHANGED', 'Step state changed; retry', { step_run_id: id })
    return toStepRun(row)
  },

  async mergeRuntimeState(id, changes, mergeKeys = []) {
    const row = await db
      .updateTable('step_runs')
      .set({ runtime_state: mergeExpression(db, changes, mergeKeys), updated_at: nowIso() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    return row ? toStepRun(row) : undefined
  },

  async update(id, patch) {
    const row = await db
      .updateTable('step_runs')
      .set({ ...toStepRunColumns(patch), updated_at: nowIso() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    return row ? toStepRun(row) : undefined
  },
})
