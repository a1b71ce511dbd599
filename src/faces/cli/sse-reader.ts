import { UnreachableError, type ApiClient, type Query } from './api-client.js'

export interface SseMessage {
  readonly id: string | undefined
  readonly event: string | undefined
  readonly data: string
}

export interface FollowOptions {
  readonly signal: AbortSignal
  /** Resume after this id (sent as `Last-Event-ID`); afterwards the last id received. */
  readonly lastEventId?: string | undefined
  /** Called when a dropped stream is being re-opened (for a note on stderr). */
  readonly onReconnect?: (lastEventId: string | undefined) => void
}

const DEFAULT_RETRY_MS = 2_000

/**
 * Follows an SSE endpoint until `signal` aborts, re-opening the stream with `Last-Event-ID` whenever
 * the server closes it or the network drops, so nothing is missed and nothing is printed twice.
 * The first connection's errors are thrown (ApiError: exit 1; UnreachableError: exit 3).
 */
export const followSse = async (
  client: ApiClient,
  path: string,
  query: Query,
  onMessage: (message: SseMessage) => void | Promise<void>,
  options: FollowOptions,
): Promise<void> => {
  let lastId = options.lastEventId
  let retryMs = DEFAULT_RETRY_MS
  let connected = false
  while (!options.signal.aborted) {
    try {
      const headers: Record<string, string> = lastId === undefined ? {} : { 'last-event-id': lastId }
      const response = await client.stream(path, query, headers, options.signal)
      connected = true
      await readMessages(response, options.signal, async (message, retry) => {
        if (retry !== undefined) retryMs = retry
        if (message === undefined) return
        if (message.id !== undefined) lastId = message.id
        await onMessage(message)
      })
    } catch (error) {
      if (options.signal.aborted) return
      // Once streaming worked, a lost server is a pause, not the end: keep trying to resume.
      if (!connected || !(error instanceof UnreachableError || isNetworkError(error))) throw error
    }
    if (options.signal.aborted) return
    await sleep(retryMs, options.signal)
    if (!options.signal.aborted) options.onReconnect?.(lastId)
  }
}

type BlockHandler = (message: SseMessage | undefined, retryMs: number | undefined) => Promise<void>

const readMessages = async (response: Response, signal: AbortSignal, onBlock: BlockHandler) => {
  if (!response.body) return
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const parsed = parseBlock(block)
        await onBlock(parsed.message, parsed.retryMs)
        // Stopped by a message (`end`, --count): reading on from an aborted body may never settle.
        if (signal.aborted) return
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error
  }
}

/** One SSE block → its message (if it has data) and any `retry:` hint. Comments are ignored. */
export const parseBlock = (block: string): { message?: SseMessage; retryMs?: number } => {
  const data: string[] = []
  let id: string | undefined
  let event: string | undefined
  let retryMs: number | undefined
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'id') id = value
    else if (field === 'event') event = value
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value)
  }
  return { ...(data.length > 0 ? { message: { id, event, data: data.join('\n') } } : {}), retryMs }
}

const isNetworkError = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'TypeError' || 'code' in error)

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
