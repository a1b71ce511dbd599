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

/**
 * Live events for one filter: `GET /events/stream` (SSE, resumed with `Last-Event-ID`), falling
 * back to polling `GET /events?after_id=` when the server has no stream. Each event is delivered
 * once, in id order, whatever path it came by.
 */
export const openEventFeed = (options: EventFeedOptions): SseConnection => {
  const { api, filter } = options
  let highest = options.afterId ?? 0
  const deliver = (event: OrchestratorEvent) => {
    if (event.id <= highest) return
    highest = event.id
    options.onEvent(event)
  }
  return openSse({
    fetch: options.fetch,
    lastEventId: highest > 0 ? String(highest) : '',
    pollIntervalMs: options.pollIntervalMs,
    prepare: () => api.prepare('/events/stream', { query: { ...filter }, projectId: filter.project_id }),
    onStatus: options.onStatus,
    onMessage: (message) => {
      const event = parseEvent(message.data)
      if (event) deliver(event)
    },
    poll: async () => {
      const batch = await api.request<OrchestratorEvent[]>('GET', '/events', {
        projectId: filter.project_id,
        query: { ...filter, after_id: highest || undefined, limit: 100 },
      })
      const fresh = batch.filter((event) => event.id > highest).sort((a, b) => a.id - b.id)
      if (highest === 0) highest = fresh.at(-1)?.id ?? 0
      else fresh.forEach(deliver)
      return String(highest)
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
