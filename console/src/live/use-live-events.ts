import { useEffect, useState } from 'preact/hooks'
import type { OrchestratorEvent } from '../api/types.js'
import { useEventFeed, useResource } from '../hooks.js'
import type { EventFilter } from './event-feed.js'
import type { StreamStatus } from './sse-client.js'

export interface LiveEvents {
  readonly events: readonly OrchestratorEvent[]
  readonly error: unknown
  readonly loading: boolean
  readonly status: StreamStatus
  reload(): void
}

const KEEP = 300

/**
 * An event list that is loaded once and then kept current by the live feed (newest first).
 * `onEvent` lets the page react (reload a run's status when its events say it changed).
 */
export const useLiveEvents = (
  filter: EventFilter,
  load: (signal: AbortSignal) => Promise<OrchestratorEvent[]>,
  onEvent?: (event: OrchestratorEvent) => void,
): LiveEvents => {
  const initial = useResource(load, [JSON.stringify(filter)])
  const [events, setEvents] = useState<OrchestratorEvent[]>([])
  useEffect(() => {
    if (initial.data) setEvents([...initial.data].sort((a, b) => b.id - a.id).slice(0, KEEP))
  }, [initial.data])
  const afterId = initial.data ? initial.data.reduce((max, e) => Math.max(max, e.id), 0) : undefined
  const status = useEventFeed(initial.data ? filter : undefined, afterId, (event) => {
    setEvents((prior) => (prior.some((e) => e.id === event.id) ? prior : [event, ...prior].slice(0, KEEP)))
    onEvent?.(event)
  })
  return { events, error: initial.error, loading: initial.loading, status, reload: initial.reload }
}
