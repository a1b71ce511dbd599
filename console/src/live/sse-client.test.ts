import { describe, expect, it } from 'vitest'
import { backoff, openSse, type StreamStatus } from './sse-client.js'

const stream = (chunks: string[], status = 200) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
        controller.close()
      },
    }),
    { status, headers: { 'content-type': 'text/event-stream' } },
  )

/** Yields to the event loop, so a loop with an instant sleep cannot starve the test. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 2))
  expect(check()).toBe(true)
}

describe('SSE client', () => {
  it('reconnects after the stream ends, resuming with Last-Event-ID and honouring retry:', async () => {
    const calls: Record<string, string>[] = []
    const sleeps: number[] = []
    const replies = [
      stream(['retry: 1234\n', 'id: 1\ndata: a\n\n', 'id: 2\ndata: b\n\n']),
      stream(['id: 3\ndata: c\n\n']),
    ]
    const got: string[] = []
    const connection = openSse({
      prepare: () => ({ url: '/events/stream', headers: { Authorization: 'Bearer t' } }),
      fetch: async (_url, init) => {
        calls.push({ ...(init.headers as Record<string, string>) })
        return replies.shift() ?? new Promise<Response>(() => undefined)
      },
      onMessage: (m) => got.push(m.data),
      sleep: (ms) => (sleeps.push(ms), tick()),
      random: () => 1,
    })
    await until(() => got.length === 3)
    connection.close()
    expect(got).toEqual(['a', 'b', 'c'])
    expect(calls[0]?.['Last-Event-ID']).toBeUndefined()
    expect(calls[0]?.Authorization).toBe('Bearer t')
    expect(calls[1]?.['Last-Event-ID']).toBe('2')
    expect(sleeps[0]).toBe(1234)
    expect(connection.lastEventId()).toBe('3')
  })

  it('backs off exponentially on failures and falls back to polling when the stream keeps failing', async () => {
    const sleeps: number[] = []
    const states: StreamStatus['state'][] = []
    let polls = 0
    const connection = openSse({
      prepare: () => ({ url: '/s', headers: {} }),
      fetch: async () => {
        throw new TypeError('network down')
      },
      onMessage: () => undefined,
      onStatus: (s) => states.push(s.state),
      poll: async (last) => {
        polls++
        return last
      },
      failuresBeforePolling: 3,
      initialDelayMs: 100,
      pollIntervalMs: 50,
      sleep: (ms) => (sleeps.push(ms), tick()),
      random: () => 1,
    })
    await until(() => polls >= 2)
    connection.close()
    expect(sleeps.slice(0, 2)).toEqual([100, 200])
    expect(states).toContain('reconnecting')
    expect(states).toContain('polling')
  })

  it('polls right away when the server has no stream (404)', async () => {
    let polls = 0
    const connection = openSse({
      prepare: () => ({ url: '/s', headers: {} }),
      fetch: async () => new Response('{"detail":"Not Found"}', { status: 404 }),
      onMessage: () => undefined,
      poll: async () => String(++polls),
      sleep: () => tick(),
      lastEventId: '9',
    })
    await until(() => polls >= 3)
    connection.close()
  })

  it('stops on 401/403 instead of hammering the server with a bad token', async () => {
    let calls = 0
    const states: StreamStatus[] = []
    openSse({
      prepare: () => ({ url: '/s', headers: {} }),
      fetch: async () => {
        calls++
        return new Response('', { status: 401 })
      },
      onMessage: () => undefined,
      onStatus: (s) => states.push(s),
      sleep: () => tick(),
    })
    await until(() => states.some((s) => s.state === 'stopped'))
    expect(calls).toBe(1)
  })

  it('keeps backoff between half and the whole exponential delay, capped', () => {
    expect(backoff(1, 1000, 30_000, () => 0)).toBe(500)
    expect(backoff(3, 1000, 30_000, () => 1)).toBe(4000)
    expect(backoff(20, 1000, 30_000, () => 1)).toBe(30_000)
  })
})
