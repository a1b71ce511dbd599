import type { Kysely, QueryCreator } from 'kysely'
import type { StepStatus } from '../../domain/statuses.js'
import type { RunLeaseRepository } from '../../app/runs/run-lease.port.js'
import type {
  EventRepository,
  ProtocolRunRepository,
  StepRunRepository,
  StepStatusPatch,
} from '../../app/ports.js'
import { AppError } from '../../domain/app-error.js'
import { engineChainJson } from '../../domain/engine-chain.js'
import { encodeJson, nowIso } from './columns.js'
import { isPostgres } from './dialect.js'
import { CURRENT_TXID, toEvent, toEventColumns } from './event.table.js'
import { mergeExpression } from './json-merge.js'
import type { Database } from './schema.js'
import { scopeReadableBy } from './readable-by.js'
import { moveStepInOneStatement } from './step-move.statement.js'
import { toStepRun, toStepRunColumns } from './step-run.table.js'
import { isUniqueViolation } from './unique-violation.js'
import { joinedProject, joinedProjectColumns } from './project.table.js'
import { joinedRun, joinedRunColumns } from './protocol-run.table.js'

/** The compare-and-set of a step's status: no row when the status is not one of `from`. */
const statusUpdate = (
  db: Kysely<Database>,
  q: QueryCreator<Database>,
  id: number,
  { from, to }: { readonly from: readonly StepStatus[]; readonly to: StepStatus },
  { runtimeMerge, ...patch }: StepStatusPatch,
) => {
  if (runtimeMerge && patch.runtimeState !== undefined)
    throw new Error('A step update merges into runtime_state or replaces it, not both')
  return q
    .updateTable('step_runs')
    .set({
      ...toStepRunColumns(patch),
      ...(runtimeMerge ? { runtime_state: mergeExpression(db, runtimeMerge, []) } : {}),
      status: to,
      updated_at: nowIso(),
    })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .returningAll()
}

const stepStateChanged = (id: number): AppError =>
  new AppError('ORC_STATE_CHANGED', 'Step state changed; retry', { step_run_id: id })

export const createStepRunRepository = (
  db: Kysely<Database>,
  {
    events,
    runs,
    leases,
  }: {
    readonly events: Pick<EventRepository, 'append'>
    /** On SQLite a move adds usage, releases a lease and reads the run through them. */
    readonly runs: Pick<ProtocolRunRepository, 'addUsage' | 'findById'>
    readonly leases: Pick<RunLeaseRepository, 'release'>
  },
): StepRunRepository => {
  const postgres = isPostgres(db)
  const compareAndSetStatus = async (
    id: number,
    from: readonly StepStatus[],
    to: StepStatus,
    patch: StepStatusPatch = {},
  ) => {
    const row = await statusUpdate(db, db, id, { from, to }, patch).executeTakeFirst()
    if (!row) throw stepStateChanged(id)
    return toStepRun(row)
  }
  const stepsOfRun = (protocolRunId: number) =>
    db
      .selectFrom('step_runs')
      .selectAll()
      .where('protocol_run_id', '=', protocolRunId)
      .orderBy('step_index', 'asc')
      .orderBy('id', 'asc')
  const findWithProjectId: StepRunRepository['findWithProjectId'] = async (id) => {
    const row = await db
      .selectFrom('step_runs as s')
      .innerJoin('protocol_runs as r', 'r.id', 's.protocol_run_id')
      .selectAll('s')
      .select('r.project_id as run_project_id')
      .where('s.id', '=', id)
      .executeTakeFirst()
    return row ? { step: toStepRun(row), projectId: row.run_project_id } : undefined
  }
  const stepWithRun = (id: number) =>
    db
      .selectFrom('step_runs as s')
      .innerJoin('protocol_runs as r', 'r.id', 's.protocol_run_id')
      .innerJoin('projects as p', 'p.id', 'r.project_id')
      .selectAll('s')
      .select(joinedRunColumns('r'))
      .where('s.id', '=', id)
  const findWithRunAndProject: StepRunRepository['findWithRunAndProject'] = async (id) => {
    const row = await stepWithRun(id).select(joinedProjectColumns('p')).executeTakeFirst()
    return row ? { step: toStepRun(row), run: joinedRun(row), project: joinedProject(row) } : undefined
  }
  const findWithRunAndTokenHash: StepRunRepository['findWithRunAndTokenHash'] = async (id) => {
    const row = await stepWithRun(id).select('p.api_token_hash as project_token_hash').executeTakeFirst()
    return row
      ? { step: toStepRun(row), run: joinedRun(row), projectTokenHash: row.project_token_hash }
      : undefined
  }
  return {
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
          engines: step.engines ? encodeJson(engineChainJson(step.engines)) : null,
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

    findWithProjectId,
    findWithRunAndProject,
    findWithRunAndTokenHash,

    async listByRun(protocolRunId) {
      return (await stepsOfRun(protocolRunId).execute()).map(toStepRun)
    },

    async listByRunFor(protocolRunId, reader) {
      const rows = await stepsOfRun(protocolRunId)
        .where(scopeReadableBy({ kind: 'run', id: protocolRunId }, reader))
        .execute()
      return rows.map(toStepRun)
    },

    compareAndSetStatus,

    async compareAndSetStatusWithEvent(id, from, to, patch = {}, event) {
      if (!postgres) {
        const step = await compareAndSetStatus(id, from, to, patch)
        return { step, event: await events.append(event) }
      }
      const columns = toEventColumns(event)
      const row = await db
        .with('moved', (q) => statusUpdate(db, q, id, { from, to }, patch))
        .with('appended', (q) =>
          q
            .insertInto('events')
            .columns([
              'project_id',
              'protocol_run_id',
              'step_run_id',
              'event_type',
              'message',
              'metadata',
              'created_at',
              'txid',
            ])
            // Selected from `moved`, so the event exists only when the step moved.
            .expression((eb) =>
              eb
                .selectFrom('moved')
                .select([
                  eb.cast(eb.val(columns.project_id), 'integer').as('project_id'),
                  eb.cast(eb.val(columns.protocol_run_id), 'integer').as('protocol_run_id'),
                  eb.cast(eb.val(columns.step_run_id), 'integer').as('step_run_id'),
                  eb.cast(eb.val(columns.event_type), 'text').as('event_type'),
                  eb.cast(eb.val(columns.message), 'text').as('message'),
                  eb.cast(eb.val(columns.metadata), 'jsonb').as('metadata'),
                  eb.cast(eb.val(columns.created_at), 'timestamptz').as('created_at'),
                  CURRENT_TXID.as('txid'),
                ]),
            )
            .returning('id'),
        )
        .selectFrom(['moved', 'appended'])
        .selectAll('moved')
        .select('appended.id as event_id')
        .executeTakeFirst()
      if (!row) throw stepStateChanged(id)
      const { event_id, ...stepRow } = row
      // The event as stored; its txid only orders listings and is not part of the event.
      return { step: toStepRun(stepRow), event: toEvent({ ...columns, id: event_id, txid: 0 }) }
    },

    async moveIfAllowed(id, move) {
      if (postgres) return moveStepInOneStatement(db, id, move)
      // SQLite: a statement is a function call, so the read first costs no round trip.
      const found = await findWithProjectId(id)
      if (!found) return undefined
      const { step, projectId } = found
      const { runUsage } = move
      if (runUsage) await runs.addUsage(step.protocolRunId, runUsage.tokens, runUsage.costUsd)
      const moved = move.from.includes(step.status)
      const { type: eventType, message, movedMetadata, unmovedMetadata } = move.event
      const to = moved ? await compareAndSetStatus(id, [step.status], move.to, move.patch) : step
      const event = await events.append({
        projectId,
        protocolRunId: step.protocolRunId,
        stepRunId: step.id,
        eventType,
        message,
        metadata: moved ? movedMetadata : unmovedMetadata,
      })
      if (move.releaseLeaseOf !== undefined) await leases.release(step.protocolRunId, move.releaseLeaseOf)
      const run = await runs.findById(step.protocolRunId)
      if (!run) throw new Error(`Run ${step.protocolRunId} of step ${id} is gone`)
      return { step: to, event, moved, run }
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
  }
}
