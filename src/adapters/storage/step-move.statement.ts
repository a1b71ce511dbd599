import { sql, type Kysely } from 'kysely'
import type { StepMove, StepMoveResult } from '../../app/ports.js'
import { AppError } from '../../domain/app-error.js'
import type { JsonObject } from '../../domain/json.js'
import { encodeJson, nowIso } from './columns.js'
import { CURRENT_TXID, toEvent } from './event.table.js'
import { joinedRun, joinedRunColumns } from './protocol-run.table.js'
import type { Database } from './schema.js'
import { toStepRun, toStepRunColumns, type StepRunRow } from './step-run.table.js'

type MoveRow = StepRunRow & {
  readonly moved: boolean
  readonly event_id: number | null
  readonly event_project_id: number | null
}

/**
 * StepRunRepository.moveIfAllowed on Postgres, as one statement (docs/performance.md, "Queue"):
 * `cur` reads the step; `run` is its run, with `runUsage` added when given; `moved` is the
 * compare-and-set on the status `cur` read, allowed only when that status is one of `from` (so a
 * step another writer moved meanwhile is not moved, as the read-then-write did: READ COMMITTED
 * re-checks `status = cur.status` against the newest row); `released` drops the worktree lease of
 * `releaseLeaseOf`; `appended` writes the event when the step moved or was never movable, never
 * after a lost race. `moved` joins `run`, so the run's row is locked before the step's, the order
 * the callers' other writes take.
 */
export const moveStepInOneStatement = async (
  db: Kysely<Database>,
  id: number,
  move: StepMove,
): Promise<StepMoveResult | undefined> => {
  const now = nowIso()
  const from = [...move.from]
  const patch = Object.entries(toStepRunColumns(move.patch ?? {})).map(
    ([column, value]) => sql`${sql.ref(column)} = ${value}`,
  )
  const moved = metadataText(move.event.movedMetadata)
  const unmoved = metadataText(move.event.unmovedMetadata)
  const { rows } = await sql<MoveRow>`
    with cur as (select * from step_runs where id = ${id}),
    run as (${runOf(move, now)}),${releaseOf(move)}
    moved as (
      update step_runs set ${sql.join([...patch, sql`status = ${move.to}`, sql`updated_at = ${now}`])}
      from cur join run on true
      where step_runs.id = cur.id and step_runs.status = cur.status and cur.status = any(${from}::text[])
      returning step_runs.*),
    appended as (
      insert into events (project_id, protocol_run_id, step_run_id, event_type, message, metadata, created_at, txid)
      select r.project_id, cur.protocol_run_id, cur.id, ${move.event.type}, ${move.event.message},
        case when exists (select 1 from moved) then ${moved}::jsonb else ${unmoved}::jsonb end,
        ${now}::timestamptz, ${CURRENT_TXID}
      from cur join protocol_runs r on r.id = cur.protocol_run_id
      where exists (select 1 from moved) or not (cur.status = any(${from}::text[]))
      returning id, project_id)
    select s.*, appended.id as event_id, appended.project_id as event_project_id, ${sql.join(joinedRunColumns('run'))}
    from (select moved.*, true as moved from moved
          union all select cur.*, false from cur where not exists (select 1 from moved)) s
    join run on true
    left join appended on true`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  // toStepRun and joinedRun each take their own columns out of the joined row.
  const { moved: didMove, event_id, event_project_id, ...stepRow } = row
  if (event_id === null || event_project_id === null)
    throw new AppError('ORC_STATE_CHANGED', 'Step state changed; retry', { step_run_id: id })
  const event = toEvent({
    id: event_id,
    project_id: event_project_id,
    protocol_run_id: stepRow.protocol_run_id,
    step_run_id: stepRow.id,
    event_type: move.event.type,
    message: move.event.message,
    metadata: didMove ? moved : unmoved,
    created_at: now,
    // Only orders listings; not part of the event.
    txid: 0,
  })
  return { step: toStepRun(stepRow), event, moved: didMove, run: joinedRun(row) }
}

/**
 * The step's run, as the move's `run`: with the call's usage added (as `runs.addUsage` adds it),
 * or as it is. Locked either way (as `runs.lockById` locks it), so every move takes the run's row
 * before the step's, the order of the transactions that lock a run to decide over its steps.
 */
const runOf = (move: StepMove, now: string) =>
  move.runUsage === undefined
    ? sql`select r.* from protocol_runs r join cur on r.id = cur.protocol_run_id for no key update of r`
    : sql`update protocol_runs set tokens_used = protocol_runs.tokens_used + ${move.runUsage.tokens},
        cost_usd = protocol_runs.cost_usd + ${move.runUsage.costUsd}, updated_at = ${now}
        from cur where protocol_runs.id = cur.protocol_run_id returning protocol_runs.*`

/** The worktree lease dropped when `releaseLeaseOf` took it; runs whether or not it is referenced. */
const releaseOf = (move: StepMove) =>
  move.releaseLeaseOf === undefined
    ? sql``
    : sql`
    released as (delete from run_leases using cur
      where run_leases.protocol_run_id = cur.protocol_run_id and run_leases.job_id = ${move.releaseLeaseOf}),`

// An empty object is stored as no metadata, as every event is.
const metadataText = (metadata: JsonObject): string | null =>
  Object.keys(metadata).length > 0 ? encodeJson(metadata) : null
