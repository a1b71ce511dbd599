import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError } from './api/api-error.js'
import type { OrchestratorEvent } from './api/types.js'
import { useConsole } from './context.js'
import { openEventFeed, type EventFilter } from './live/event-feed.js'
import type { StreamStatus } from './live/sse-client.js'

export interface Resource<T> {
  readonly data: T | undefined
  readonly error: unknown
  readonly loading: boolean
  reload(): void
  set(update: (prior: T | undefined) => T | undefined): void
}

/**
 * Loads data and keeps the last good value while reloading, so a refresh never blanks the page,
 * moves focus or resets scroll. A reload that overtakes an older one wins.
 */
export const useResource = <T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): Resource<T> => {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [loading, setLoading] = useState(true)
  const [nonce, setNonce] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const controller = new AbortController()
    setLoading(true)
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return
        setData(value)
        setError(undefined)
        setLoading(false)
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return
        // What we may no longer see (token gone) or what is gone must not stay on screen.
        if (failure instanceof ApiError && [401, 403, 404].includes(failure.status)) setData(undefined)
        setError(failure)
        setLoading(false)
      },
    )
    return () => controller.abort()
  }, [...deps, nonce])
  const reload = useCallback(() => setNonce((n) => n + 1), [])
  return { data, error, loading, reload, set: setData }
}

/** Clears the data of a resource whose identity changed (another project, another run). */
export const useResetOn = (key: unknown, reset: () => void): void => {
  const prior = useRef(key)
  if (prior.current !== key) {
    prior.current = key
    reset()
  }
}

/**
 * Subscribes to live events for a filter. `afterId` is the newest event already shown, so the
 * stream resumes right after it. The callback may change between renders without reconnecting.
 */
export const useEventFeed = (
  filter: EventFilter | undefined,
  afterId: number | undefined,
  onEvent: (event: OrchestratorEvent) => void,
): StreamStatus => {
  const { api, fetch } = useConsole()
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting' })
  const handler = useRef(onEvent)
  handler.current = onEvent
  const key = JSON.stringify(filter ?? null)
  const ready = filter !== undefined && afterId !== undefined
  useEffect(() => {
    if (!ready || !filter) return
    const connection = openEventFeed({
      api,
      fetch,
      filter,
      afterId,
      onEvent: (event) => handler.current(event),
      onStatus: setStatus,
    })
    return () => connection.close()
  }, [api, key, ready])
  return status
}

/** Calls `fn` at most once per `ms`, trailing, so a burst of events causes one reload. */
export const useDebounced = (fn: () => void, ms: number): (() => void) => {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const latest = useRef(fn)
  latest.current = fn
  useEffect(() => () => clearTimeout(timer.current), [])
  return useCallback(() => {
    if (timer.current !== undefined) return
    timer.current = setTimeout(() => {
      timer.current = undefined
      latest.current()
    }, ms)
  }, [ms])
}

/** Re-renders every `ms` so relative times stay true. */
export const useTick = (ms: number): number => {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}
