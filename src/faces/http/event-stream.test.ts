import { EventEmitter } from 'node:events'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { EventWatch } from '../../app/events/watch-events.js'
import type { Announced } from '../../app/ports.js'
import { streamEvents } from './event-stream.js'

/**
 * A stream's watch over no events, counting its reads; `commit()` moves the data version and
 * `announce()` wakes the stream, which reads only on announcements naming run 1.
 */
const idleWatch = () => {
  let version = 1
  let wake: (announced: Announced) => void = () => undefined
  const watch = {
    reads: 0,
    commit: () => void (version += 1),
    announce: (announced: Announced) => wake(announced),
    after: async () => {
      watch.reads += 1
      return []
    },
    latestId: async () => 0,
    signal: {
      subscribe: (listener: (announced: Announced) => void) => {
        wake = listener
        return () => undefined
      },
      notify: () => undefined,
    },
    wakes: (announced: Announced) => announced?.some((event) => event.protocolRunId === 1) ?? true,
    pollVersion: async () => String(version),
  }
  return watch
}

const openStream = async (watch: EventWatch) => {
  const raw = Object.assign(new EventEmitter(), { writeHead: vi.fn(), write: vi.fn(), end: vi.fn() })
  const request = { headers: {}, id: 'req-1', raw: new EventEmitter(), log: { warn: vi.fn() } }
  const reply = { hijack: vi.fn(), raw }
  await streamEvents(
    request as unknown as FastifyRequest,
    reply as unknown as FastifyReply,
    watch,
    0,
    new Set(),
  )
  return () => request.raw.emit('close')
}

describe('an open event stream', () => {
  beforeEach(() =>
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] }),
  )
  afterEach(() => vi.useRealTimers())

  it('reads no events on its polls while nothing was committed, and reads again after a commit', async () => {
    const watch = idleWatch()
    const close = await openStream(watch)
    expect(watch.reads).toBe(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(watch.reads).toBe(1)
    watch.commit()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(watch.reads).toBe(2)
    close()
  })

  it('reads on a wake-up its watch says may concern it, and skips the others', async () => {
    const watch = idleWatch()
    const close = await openStream(watch)
    const news = (protocolRunId: number) => [{ id: 9, projectId: 1, protocolRunId, eventType: 'x' }]
    watch.announce(news(2))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(watch.reads).toBe(1)
    watch.announce(news(1))
    await vi.advanceTimersByTimeAsync(0)
    expect(watch.reads).toBe(2)
    // One more read a moment later, for a commit an older transaction still held back.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(watch.reads).toBe(3)
    close()
  })

  it('reads on every poll when no data version can be had', async () => {
    const watch = { ...idleWatch(), pollVersion: async () => undefined }
    const counted = idleWatch()
    const close = await openStream({ ...watch, after: counted.after })
    await vi.advanceTimersByTimeAsync(4_000)
    expect(counted.reads).toBe(3)
    close()
  })
})
