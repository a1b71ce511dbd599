import { describe, expect, it } from 'vitest'
import type { EventNews } from '../ports.js'
import { createWakeGate, WAKE_MEMORY_IDS, WAKE_MEMORY_MS } from './wake-gate.js'

const WATCHED = 7
const news = (id: number, protocolRunId = WATCHED, eventType = 'agent_output'): EventNews[] => [
  { id, projectId: 1, protocolRunId, eventType },
]

const clock = () => {
  let at = 1_000
  return { now: () => at, pass: (ms: number) => void (at += ms) }
}

describe('the wake gate of a live stream', () => {
  it('reads on a commit of its run, not on commits of other runs, and not again once it has read it', () => {
    const gate = createWakeGate({ protocolRunId: WATCHED })
    expect(gate.wakes(news(10, 8))).toBe(false)
    expect(gate.wakes(news(11))).toBe(true)
    gate.read([{ id: 11 }])
    expect(gate.wakes(news(12, 8))).toBe(false)
  })

  it('reads on any announcement that names nothing, and on every one when it has no filter', () => {
    expect(createWakeGate({ protocolRunId: WATCHED }).wakes(undefined)).toBe(true)
    expect(createWakeGate({}).wakes(news(1, 8))).toBe(true)
  })

  it('matches the event type and project it is filtered by', () => {
    const typed = createWakeGate({ eventType: 'step_completed' })
    expect(typed.wakes(news(1, 8, 'agent_output'))).toBe(false)
    expect(typed.wakes(news(2, 8, 'step_completed'))).toBe(true)
    const project = createWakeGate({ projectId: 2 })
    expect(project.wakes(news(3))).toBe(false)
  })

  it('reads on an event named after one with a larger id was read (Postgres lists by commit position)', () => {
    const gate = createWakeGate({ protocolRunId: WATCHED })
    expect(gate.wakes(news(3))).toBe(true)
    gate.read([{ id: 3 }])
    expect(gate.wakes(news(2))).toBe(true)
  })

  it('keeps reading on every wake-up while a named event is unread, for as long as it remembers', () => {
    const time = clock()
    const gate = createWakeGate({ protocolRunId: WATCHED }, time.now)
    expect(gate.wakes(news(5))).toBe(true)
    gate.read([])
    expect(gate.wakes(news(6, 8))).toBe(true)
    time.pass(WAKE_MEMORY_MS)
    expect(gate.wakes(news(7, 8))).toBe(false)
  })

  it('does not read for an announcement of an event a read already returned', () => {
    const time = clock()
    const gate = createWakeGate({ protocolRunId: WATCHED }, time.now)
    gate.read([{ id: 5 }])
    expect(gate.wakes(news(5))).toBe(false)
    time.pass(WAKE_MEMORY_MS)
    expect(gate.wakes(news(5))).toBe(true)
  })

  it('remembers at most WAKE_MEMORY_IDS unread ids per stream, forgetting the oldest first', () => {
    const gate = createWakeGate({ protocolRunId: WATCHED })
    const named = Array.from({ length: WAKE_MEMORY_IDS + 1 }, (_, i) => news(i + 1)[0]!)
    expect(gate.wakes(named)).toBe(true)
    gate.read(named.slice(1))
    expect(gate.wakes(news(5_000, 8))).toBe(false)
  })

  it('remembers at most WAKE_MEMORY_IDS read ids: a late announcement of an older one reads again', () => {
    const gate = createWakeGate({ protocolRunId: WATCHED })
    gate.read(Array.from({ length: WAKE_MEMORY_IDS + 1 }, (_, i) => ({ id: i + 1 })))
    expect(gate.wakes(news(WAKE_MEMORY_IDS + 1))).toBe(false)
    expect(gate.wakes(news(1))).toBe(true)
  })
})
