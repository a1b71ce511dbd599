import { sql, type Insertable, type Selectable } from 'kysely'
import type { EventWithContext, NewEvent, OrchestratorEvent } from '../../domain/event.js'
import { decodeJsonObject, encodeJson, nowIso, toIso } from './columns.js'
import type { EventsTable } from './schema.js'

export type EventRow = Selectable<EventsTable>
export type EventContextRow = EventRow & { protocol_name: string | null; project_name: string | null }

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

/** Spelled out rather than spread from `toEvent`: the spread costs more than the rest of a row's decoding. */
export const toEventWithContext = (row: EventContextRow): EventWithContext => ({
  id: row.id,
  projectId: row.project_id,
  protocolRunId: row.protocol_run_id,
  stepRunId: row.step_run_id,
  eventType: row.event_type,
  message: row.message,
  metadata: decodeJsonObject(row.metadata),
  createdAt: toIso(row.created_at),
  protocolName: row.protocol_name,
  projectName: row.project_name,
})
