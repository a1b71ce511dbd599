import { describe, expect, it } from 'vitest'
import { createApiClient } from '../api/client.js'
import { createTokenStore, memoryStorage } from '../api/token-store.js'
import type { OrchestratorEvent } from '../api/types.js'
import { openEventFeed, parseEvent } from './event-feed.js'

const event = (id: number): OrchestratorEvent => ({
  id,
  protocol_run_id: 1,
  step_run_id: null,
  event_type: 't',
  message: `m${id}`,
  metadata: null,
  created_at: '2026-01-01T00:00:00Z',
})

describe('event feed', () => {
  it('streams with the filter and project token, resumes after the shown events, never repeats one', async () => {
    const tokens = createTokenStore(memoryStorage(), memoryStorage())
    tokens.setProjectToken(3, 'p3')
    const seen: { url: string; headers: Record<string, string> }[] = []
    const body = [5, 6, 6, 4, 7].map((id) => `id: ${id}\ndata: ${JSON.stringify(event(id))}\n\n`).join('')
    const fetch = async (url: string, init: RequestInit) => {
      seen.push({ url, headers: init.headers as Record<string, string> })
      return seen.length === 1 ? new Response(body, { status: 200 }) : new Promise<Response>(() => undefined)
    }
    const api = createApiClient('/', tokens, fetch)
    const got: number[] = []
    const feed = openEventFeed({
      api,
      fetch,
      filter: { project_id: 3 },
      afterId: 4,
      onEvent: (e) => got.push(e.id),
    })
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 2))
    feed.close()
    expect(got).toEqual([5, 6, 7])
    expect(seen[0]?.url).toBe('/events/stream?project_id=3')
    expect(seen[0]?.headers['Last-Event-ID']).toBe('4')
    expect(seen[0]?.headers['X-Project-Token']).toBe('p3')
  })

  it('polls /events?after_id= when the server has no stream', async () => {
    const tokens = createTokenStore(memoryStorage(), memoryStorage())
    const urls: string[] = []
    const fetch = async (url: string) => {
      urls.push(url)
      if (url.startsWith('/events/stream')) return new Response('', { status: 404 })
      return new Response(JSON.stringify([event(12), event(11)]), {
        headers: { 'content-type': 'application/json' },
      })
    }
    const api = createApiClient('/', tokens, fetch)
    const got: number[] = []
    const feed = openEventFeed({
      api,
      fetch,
      filter: { protocol_run_id: 2 },
      afterId: 10,
      pollIntervalMs: 1,
      onEvent: (e) => got.push(e.id),
    })
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 2))
    feed.close()
    expect(got).toEqual([11, 12])
    expect(urls[1]).toBe('/events?protocol_run_id=2&after_id=10&limit=100')
  })

  it('delivers a smaller id that the server sends after a larger one, and resumes after the last one sent', async () => {
    const tokens = createTokenStore(memoryStorage(), memoryStorage())
    const seen: Record<string, string>[] = []
    // On Postgres a transaction that took id 8 can commit after 9 was sent: the server sends it next.
    const first = [9, 8].map((id) => `id: ${id}\ndata: ${JSON.stringify(event(id))}\n\n`).join('')
    const fetch = async (_url: string, init: RequestInit) => {
      seen.push(init.headers as Record<string, string>)
      return seen.length === 1 ? new Response(first, { status: 200 }) : new Promise<Response>(() => undefined)
    }
    const got: number[] = []
    const feed = openEventFeed({
      api: createApiClient('/', tokens, fetch),
      fetch,
      filter: {},
      afterId: 7,
      onEvent: (e) => got.push(e.id),
    })
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5))
    feed.close()
    expect(got).toEqual([9, 8])
    expect(seen[1]?.['Last-Event-ID']).toBe('8')
  })

  it('ignores keep-alives and foreign payloads', () => {
    expect(parseEvent('not json')).toBeUndefined()
    expect(parseEvent('{"hello":1}')).toBeUndefined()
    expect(parseEvent(JSON.stringify(event(3)))?.id).toBe(3)
  })
})
