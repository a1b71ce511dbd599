import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError } from '../api/api-error.js'
import { useConsole } from '../context.js'
import { openSse, type StreamStatus } from '../live/sse-client.js'
import { LiveIndicator } from '../components/live-indicator.js'
import { ErrorBox } from '../components/error-box.js'

const MAX_CHARS = 2_000_000

/** A log line from the stream: a JSON string (the server's form), JSON `{text|line|chunk}`, or raw. */
export const logText = (data: string): string => {
  const line = parsedLine(data) ?? data
  return line.endsWith('\n') ? line : `${line}\n`
}

const parsedLine = (data: string): string | undefined => {
  if (!data.startsWith('"') && !data.startsWith('{')) return undefined
  try {
    const value = JSON.parse(data) as unknown
    if (typeof value === 'string') return value
    if (value && typeof value === 'object')
      for (const key of ['text', 'line', 'chunk', 'data']) {
        const field = (value as Record<string, unknown>)[key]
        if (typeof field === 'string') return field
      }
  } catch {
    // not JSON: the line itself
  }
  return undefined
}

/**
 * The agent's output: `GET /steps/{id}/logs?follow=1` as SSE while it runs, else the stored text.
 * Follow mode keeps the newest line in view; scrolling up turns it off.
 */
export const LogPanel = ({
  projectId,
  stepId,
  running,
  revision,
}: {
  projectId: number
  stepId: number
  running: boolean
  /** Changes whenever the step does (its `updated_at`): the log is read again for new lines (QA). */
  revision?: string | number | null
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

  // Lines shown so far, kept while the step stays the same (the log file only grows).
  const shown = useRef({ stepId, lines: 0 })

  useEffect(() => {
    if (shown.current.stepId !== stepId) {
      shown.current = { stepId, lines: 0 }
      setText('')
    }
    let fetchedOnce = false
    // Each connection replays the log from its first line, so lines already shown are skipped.
    let lineInConnection = 0
    const connection = openSse({
      fetch,
      prepare: () => api.prepare(`/steps/${stepId}/logs`, { projectId, query: { follow: 1 } }),
      onStatus: (next) => {
        if (next.state === 'live') lineInConnection = 0
        setStatus(next)
      },
      onMessage: (message) => {
        if (message.event === 'end') {
          // The step left `running`: the log is complete until the step runs again.
          connection.close()
          return setStatus({ state: 'ended', reason: 'The step is not running: this is its whole log' })
        }
        if (message.event === 'reset') return void ((shown.current.lines = 0), setText(''))
        lineInConnection += 1
        if (lineInConnection <= shown.current.lines) return
        shown.current.lines += 1
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
  }, [api, stepId, projectId, running, revision])

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight
  }, [text, follow])

  const visible = filter
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
        hidden={!visible && missing}
        class="log-text"
        tabIndex={0}
        aria-label="Agent log"
        onScroll={(e) => {
          const el = e.currentTarget
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24
          if (!atBottom && follow) setFollow(false)
        }}
      >
        {visible || (missing ? '' : '…')}
      </pre>
    </div>
  )
}
