/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseMessage {
  readonly id: string | undefined
  readonly data: string
}

export interface SseConnection {
  readonly messages: SseMessage[]
  /** Resolves once at least `count` messages arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseMessage[]>
  close(): void
}

export const openSse = async (url: string, headers: Record<string, string> = {}): Promise<SseConnection> => {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  })
  if (!response.ok || !response.body) throw new Error(`SSE ${url}: ${response.status}`)
  const messages: SseMessage[] = []
  const waiters = new Set<() => void>()
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const lines = block.split('\n')
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6))
          if (data.length === 0) continue
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4)
          messages.push({ id, data: data.join('\n') })
          waiters.forEach((wake) => wake())
        }
      }
    } catch {
      // aborted by close()
    }
  })()
  return {
    messages,
    waitFor: (count, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(messages.slice())
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`only ${messages.length} of ${count} SSE messages arrived`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    close: () => controller.abort(),
  }
}
