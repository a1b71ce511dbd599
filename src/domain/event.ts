import type { JsonObject } from './json.js'

/** One entry of the append-only timeline. Project-level events have no run. */
export interface OrchestratorEvent {
  readonly id: number
  readonly projectId: number
  readonly protocolRunId: number | null
  readonly stepRunId: number | null
  readonly eventType: string
  readonly message: string
  readonly metadata: JsonObject | null
  readonly createdAt: string
}

/** An event joined with the names a timeline reader wants beside it. */
export interface EventWithContext extends OrchestratorEvent {
  readonly protocolName: string | null
  readonly projectName: string | null
}

export interface NewEvent {
  readonly projectId: number
  readonly protocolRunId?: number | null
  readonly stepRunId?: number | null
  readonly eventType: string
  readonly message: string
  readonly metadata?: JsonObject | null
}
