import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError } from '../api/api-error.js'
import { useConsole } from '../context.js'
import { openSse, type StreamStatus } from '../live/sse-client.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { ErrorBox } from '../components/error-box.js'

const MAX_CHARS = 2_000_000

/** A log line from the stream: JSON `{text|line|chunk}` or the raw data. */
export const logText = (data: string): string => {
  if (data.startsWith('{')) {
    try {
      const value = JSON.parse(data) as Record<string, unknown>
      for (const key of ['text', 'line', 'chunk', 'data'])
        if (typeof value[key] === 'string') return value[key]
    } catch {
      // not JSON: the line itself
    }
  }
  return data.endsWith('\n') ? data : `${data}\n`
}

/**
 * The agent's output: `GET /steps/{id}/logs?follow=1` as SSE while it runs, else the stored text.
 * Follow mode keeps the newest line in view; scrolling up turns it off.
 */
export const LogPanel = ({
  projectId,
  stepId,
  running,
}: {
  projectId: number
  stepId: number
  running: boolean
}) => {
  const { api, fetch, endpoints } = useConsole()
  const [text, setText] = useState('')
  const [status, setStatus] = useState<StreamStatus>({ state: 'connecting' })
  const [error, setError] = useState<unknown>(undefined)
  const [follow, setFollow] = useState(true)
  const [filter, setFilter] = useState('')
  const box = useRef<HTMLPreElement>(null)
  const runningRef = useRef(running)
  runningRef.current = running

  useEffect(() => {
    setText('')
    let fetchedOnce = false
    const connection = openSse({
      fetch,
      prepare: () => api.prepare(`/steps/${stepId}/logs`, { projectId, query: { follow: 1 } }),
      onStatus: setStatus,
      onMessage: (message) => {
        if (message.event === 'reset') return setText('')
        setText((prior) => (prior + logText(message.data)).slice(-MAX_CHARS))
      },
      pollIntervalMs: 3000,
      poll: async (last) => {
        // Without a stream, the stored log is fetched once, then again only while the step runs.
        if (fetchedOnce && !runningRef.current) return last
        fetchedOnce = true
        try {
          const full = await endpoints.stepLog(projectId, stepId)
          setText(full.slice(-MAX_CHARS))
          setError(undefined)
        } catch (failure) {
          setError(failure)
        }
        return last
      },
    })
    return () => connection.close()
  }, [api, stepId, projectId])

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight
  }, [text, follow])

  const shown = filter
    ? text
        .split('\n')
        .filter((line) => line.toLowerCase().includes(filter.toLowerCase()))
        .join('\n')
    : text
  const missing = error instanceof ApiError && error.status === 404
  return (
    <div class="log">
      <div class="log-bar">
        <LiveIndicator status={status} />
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />{' '}
          Follow
        </label>
        <input
          type="search"
          aria-label="Search the log"
          placeholder="search"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      </div>
      {missing ? (
        <p class="muted">
          {running
            ? 'The agent has not written anything yet.'
            : 'No log for this step yet: it appears when the step runs.'}
        </p>
      ) : (
        <ErrorBox error={error} />
      )}
      <pre
        ref={box}
        hidden={!shown && missing}
        class="log-text"
        tabIndex={0}
        aria-label="Agent log"
        onScroll={(e) => {
          const el = e.currentTarget
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24
          if (!atBottom && follow) setFollow(false)
        }}
      >
        {shown || (missing ? '' : '…')}
      </pre>
    </div>
  )
}
