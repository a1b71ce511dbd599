import type { ApiClient } from '../api/client.js'
import type { OrchestratorEvent } from '../api/types.js'
import { openSse, type SseConnection, type StreamStatus } from './sse-client.js'

export interface EventFilter {
  readonly project_id?: number
  readonly protocol_run_id?: number
  readonly event_type?: string
}

export interface EventFeedOptions {
  readonly api: ApiClient
  readonly filter: EventFilter
  /** Events up to this id are already on screen; the stream resumes after it. */
  readonly afterId?: number
  readonly onEvent: (event: OrchestratorEvent) => void
  readonly onStatus?: (status: StreamStatus) => void
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>
  readonly pollIntervalMs?: number
}

/** How many delivered ids the feed remembers to drop repeats (replays after a reconnect are short). */
const REMEMBERED = 5_000

/**
 * Live events for one filter: `GET /events/stream` (SSE, resumed with `Last-Event-ID`), falling
 * back to polling `GET /events?after_id=` when the server has no stream. Events arrive in the
 * server's order, which on Postgres is commit-safe position rather than id order: an event with a
 * smaller id can follow a larger one (docs/decisions.md, "Event positions"). So the cursor is the
 * last event the server sent, never the highest id, and repeats are dropped by id.
 */
export const openEventFeed = (options: EventFeedOptions): SseConnection => {
  const { api, filter } = options
  const delivered = new Set<number>(options.afterId ? [options.afterId] : [])
  const deliver = (event: OrchestratorEvent) => {
    if (delivered.has(event.id)) return
    delivered.add(event.id)
    if (delivered.size > REMEMBERED) delivered.delete(delivered.values().next().value as number)
    options.onEvent(event)
  }
  return openSse({
    fetch: options.fetch,
    lastEventId: options.afterId ? String(options.afterId) : '',
    pollIntervalMs: options.pollIntervalMs,
    prepare: () => api.prepare('/events/stream', { query: { ...filter }, projectId: filter.project_id }),
    onStatus: options.onStatus,
    onMessage: (message) => {
      const event = parseEvent(message.data)
      if (event) deliver(event)
    },
    poll: async (lastEventId) => {
      const after = Number(lastEventId) || undefined
      // Newest first: the first event is the server's latest position, the cursor to resume after.
      const batch = await api.request<OrchestratorEvent[]>('GET', '/events', {
        projectId: filter.project_id,
        query: { ...filter, after_id: after, limit: 100 },
      })
      if (after !== undefined) [...batch].reverse().forEach(deliver)
      return batch[0] ? String(batch[0].id) : lastEventId
    },
  })
}

/** An SSE `data:` payload as an event, or undefined for keep-alives and foreign messages. */
export const parseEvent = (data: string): OrchestratorEvent | undefined => {
  try {
    const value: unknown = JSON.parse(data)
    if (value === null || typeof value !== 'object') return undefined
    const event = value as Partial<OrchestratorEvent>
    if (typeof event.id !== 'number' || typeof event.event_type !== 'string') return undefined
    return {
      message: '',
      metadata: null,
      step_run_id: null,
      protocol_run_id: null,
      created_at: null,
      ...event,
    } as OrchestratorEvent
  } catch {
    return undefined
  }
}
