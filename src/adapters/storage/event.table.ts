import type { Selectable } from 'kysely'
import type { EventWithContext, OrchestratorEvent } from '../../domain/event.js'
import { decodeJsonObject, toIso } from './columns.js'
import type { EventsTable } from './schema.js'

export type EventRow = Selectable<EventsTable>
export type EventContextRow = EventRow & { protocol_name: string | null; project_name: string | null }

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
