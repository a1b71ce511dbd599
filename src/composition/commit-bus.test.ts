import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { Committed } from '../app/ports.js'
import { createLogger } from '../logging.js'
import { createCommitBus } from './commit-bus.js'

const quietLogger = () =>
  createLogger(
    { log: { level: 'error', json: true }, env: 'test' },
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  )

const committed: Committed = { events: [], jobs: [] }

describe('the commit bus', () => {
  it('tells each subscription, even two that share one listener, and forgets only the one ended', () => {
    const bus = createCommitBus(quietLogger())
    const calls: Committed[] = []
    const listener = (value: Committed) => void calls.push(value)
    const stopFirst = bus.subscribe({ onCommit: listener })
    bus.subscribe({ onCommit: listener })
    bus.publish(committed)
    expect(calls).toHaveLength(2)
    stopFirst()
    bus.publish(committed)
    expect(calls).toHaveLength(3)
  })

  it('tells every queue of an abort, and answers even when one of them cannot be told', async () => {
    const bus = createCommitBus(quietLogger())
    const aborted: number[] = []
    bus.subscribe({ abortRun: () => Promise.reject(new Error('redis is down')) })
    bus.subscribe({ abortRun: async (runId) => void aborted.push(runId) })
    await expect(bus.abortRun(7)).resolves.toBeUndefined()
    expect(aborted).toEqual([7])
  })

  it('tells a subscriber that subscribed twice twice, until one subscription ends', async () => {
    const bus = createCommitBus(quietLogger())
    const aborted: number[] = []
    const queue = { abortRun: async (runId: number) => void aborted.push(runId) }
    const stopFirst = bus.subscribe(queue)
    bus.subscribe(queue)
    await bus.abortRun(1)
    stopFirst()
    await bus.abortRun(2)
    expect(aborted).toEqual([1, 1, 2])
  })
})
