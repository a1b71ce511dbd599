import type { Prepared } from '../api/client.js'
import { SseParser, type SseMessage } from './sse-parser.js'

/** `ended`: the server finished the stream on purpose (a step log once the step stopped running). */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'stopped' | 'ended'

export interface StreamStatus {
  readonly state: StreamState
  /** Why the stream is not live, for the indicator's tooltip. */
  readonly reason?: string
}

export interface SseClientOptions {
  /** URL and headers, asked for on every (re)connection so a changed token is picked up. */
  readonly prepare: () => Prepared
  readonly onMessage: (message: SseMessage) => void
  readonly onStatus?: (status: StreamStatus) => void
  /**
   * Called instead of streaming when the server has no stream (404/405/501) or it keeps failing:
   * fetch what happened since `lastEventId`. Returns the new last id.
   */
  readonly poll?: (lastEventId: string) => Promise<string>
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>
  readonly initialDelayMs?: number
  readonly maxDelayMs?: number
  readonly pollIntervalMs?: number
  /** Connection failures in a row before falling back to polling. */
  readonly failuresBeforePolling?: number
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  readonly random?: () => number
  readonly lastEventId?: string
}

export interface SseConnection {
  close(): void
  readonly lastEventId: () => string
}

const UNSUPPORTED = new Set([404, 405, 501])

/**
 * Server-Sent Events over fetch rather than EventSource, because EventSource cannot send the
 * `Authorization` and `X-Project-Token` headers. It keeps EventSource's contract: reconnects after
 * any drop with `Last-Event-ID`, honours `retry:`, backs off exponentially with jitter, and stops
 * on 401/403 (a token problem that retrying cannot fix). Without a stream it polls.
 */
export const openSse = (options: SseClientOptions): SseConnection => {
  const controller = new AbortController()
  const signal = controller.signal
  const sleep = options.sleep ?? abortableSleep
  const random = options.random ?? Math.random
  const initial = options.initialDelayMs ?? 1000
  const max = options.maxDelayMs ?? 30_000
  const failuresBeforePolling = options.failuresBeforePolling ?? 5
  let lastEventId = options.lastEventId ?? ''
  let retryMs: number | undefined
  const status = (s: StreamStatus) => {
    if (!signal.aborted) options.onStatus?.(s)
  }

  const connectOnce = async (): Promise<'ended' | 'unsupported' | 'denied' | 'failed'> => {
    const { url, headers } = options.prepare()
    const init: RequestInit = {
      headers: { ...headers, Accept: 'text/event-stream' },
      signal,
      cache: 'no-store',
    }
    if (lastEventId) (init.headers as Record<string, string>)['Last-Event-ID'] = lastEventId
    const response = await options.fetch(url, init)
    if (UNSUPPORTED.has(response.status)) return 'unsupported'
    if (response.status === 401 || response.status === 403) return 'denied'
    if (!response.ok || !response.body) return 'failed'
    status({ state: 'live' })
    const parser = new SseParser()
    parser.lastEventId = lastEventId
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return 'ended'
      for (const message of parser.feed(value)) {
        lastEventId = message.lastEventId
        options.onMessage(message)
      }
      retryMs = parser.retryMs ?? retryMs
    }
  }

  const pollLoop = async (reason: string) => {
    const poll = options.poll
    if (!poll) return status({ state: 'stopped', reason })
    status({ state: 'polling', reason })
    while (!signal.aborted) {
      try {
        lastEventId = await poll(lastEventId)
      } catch {
        // A failed poll is retried at the next tick; the indicator already says we are degraded.
      }
      await sleep(options.pollIntervalMs ?? 5000, signal)
    }
  }

  const run = async () => {
    let failures = 0
    status({ state: 'connecting' })
    while (!signal.aborted) {
      let outcome: Awaited<ReturnType<typeof connectOnce>>
      try {
        outcome = await connectOnce()
      } catch {
        if (signal.aborted) return
        outcome = 'failed'
      }
      if (outcome === 'unsupported') return pollLoop('The server has no event stream')
      if (outcome === 'denied')
        return status({ state: 'stopped', reason: 'Not authorised: check the tokens' })
      failures = outcome === 'ended' ? 0 : failures + 1
      if (failures >= failuresBeforePolling) return pollLoop('The event stream keeps failing')
      status({ state: 'reconnecting' })
      await sleep(backoff(failures, retryMs ?? initial, max, random), signal)
    }
  }
  void run()

  return { close: () => controller.abort(), lastEventId: () => lastEventId }
}

/** Exponential backoff with "full jitter" between half and the whole delay. */
export const backoff = (failures: number, baseMs: number, maxMs: number, random: () => number): number => {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1))
  return Math.round(exp / 2 + (random() * exp) / 2)
}

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done)
  })
