import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely'
import type { EventWithContext, NewEvent, OrchestratorEvent } from '../../domain/event.js'
import { decodeJsonObject, encodeJson, nowIso, toIso } from './columns.js'
import type { EventsTable } from './schema.js'

export type EventRow = Selectable<EventsTable>

/** The stored columns of a new event, but its Postgres `txid` (which only the statement can know). */
export const toEventColumns = (event: NewEvent): Required<Omit<Insertable<EventsTable>, 'id' | 'txid'>> => ({
  project_id: event.projectId,
  protocol_run_id: event.protocolRunId ?? null,
  step_run_id: event.stepRunId ?? null,
  event_type: event.eventType,
  message: event.message,
  // An empty object is stored as no metadata.
  metadata: event.metadata && Object.keys(event.metadata).length > 0 ? encodeJson(event.metadata) : null,
  created_at: nowIso(),
})

/** The Postgres transaction id that orders events by commit (see event-positions.ts). */
export const CURRENT_TXID = sql<number>`pg_current_xact_id()::text::bigint`

export const toEvent = (row: EventRow): OrchestratorEvent => ({
  id: row.id,
  projectId: row.project_id,
  protocolRunId: row.protocol_run_id,
  stepRunId: row.step_run_id,
  eventType: row.event_type,
  message: row.message,
  metadata: decodeJsonObject(row.metadata),
  createdAt: toIso(row.created_at),
})

/**
 * What an event listing reads (`events as e` joined with its run `r` and project `p`): the columns
 * it shows, in the order `eventWithContextOf` takes them, and not `txid`. On Postgres the timestamp
 * comes as the text the API prints (what `toIso` makes of the `Date` pg would build from it), which
 * skips a date parse and a format per row.
 */
export const EVENT_LISTING_COLUMNS = {
  sqlite: listingColumns(sql.ref('e.created_at')),
  postgres: listingColumns(sql`to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`),
}

function listingColumns(createdAt: RawBuilder<unknown>) {
  return [
    'e.id',
    'e.project_id',
    'e.protocol_run_id',
    'e.step_run_id',
    'e.event_type',
    'e.message',
    'e.metadata',
    createdAt.as('created_at'),
    'r.protocol_name as protocol_name',
    'p.name as project_name',
  ] as const
}

/** A row of `EVENT_LISTING_COLUMNS` read as an array (array-rows.ts), spelled out by position. */
export const eventWithContextOf = (row: ReadonlyArray<unknown>): EventWithContext => ({
  id: row[0] as number,
  projectId: row[1] as number,
  protocolRunId: row[2] as number | null,
  stepRunId: row[3] as number | null,
  eventType: row[4] as string,
  message: row[5] as string,
  metadata: decodeJsonObject(row[6] as string | null),
  createdAt: toIso(row[7] as string),
  protocolName: row[8] as string | null,
  projectName: row[9] as string | null,
})
