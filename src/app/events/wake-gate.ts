import type { Announced, EventNews } from '../ports.js'

/** What a live stream watches: every field given must match. */
export interface WatchFilter {
  readonly projectId?: number
  readonly protocolRunId?: number
  readonly eventType?: string
}

/**
 * How long a named event not yet read keeps every wake-up reading, and how long a read event is
 * known as read. Past it the stream's poll (every 2 s) is what picks up an event still held back.
 */
export const WAKE_MEMORY_MS = 5_000
/**
 * Ids remembered at most per stream and kind; the oldest are forgotten first. About 45 bytes each
 * (a Map entry), so a filtered stream on a scope busier than this per WAKE_MEMORY_MS costs about
 * 9 kB beside its connection (1,000 each cost 90 kB: 900 MB for 10,000 such streams). Forgetting
 * costs no event: a stream with this many unread ids reads on every wake-up anyway, and one whose
 * forgotten event is still held back gets it at its next read or poll (2 s).
 */
export const WAKE_MEMORY_IDS = 100

const matches = (filter: WatchFilter, event: EventNews): boolean =>
  (filter.projectId === undefined || event.projectId === filter.projectId) &&
  (filter.protocolRunId === undefined || event.protocolRunId === filter.protocolRunId) &&
  (filter.eventType === undefined || event.eventType === filter.eventType)

export interface WakeGate {
  /** Whether a wake-up that announced `announced` may bring the stream an event to read. */
  wakes(announced: Announced): boolean
  /** Tells the gate which events a read returned. */
  read(events: ReadonlyArray<{ readonly id: number }>): void
}

/**
 * Which wake-ups a live stream reads on. One that names nothing may concern anything, so it reads.
 * One that names committed events reads while an event matching the stream's filter has been
 * named and not yet read, so a stream watching one run no longer reads on every other run's commit.
 *
 * Named events are tracked by id, not against the stream's cursor: on Postgres events are listed
 * in commit position, not id order, so an event read later can have a smaller id than one read
 * before it; and an event can commit while an older transaction is still running and be listed
 * only once that one ends, so the read on its own wake-up can find nothing, and every later
 * wake-up (whatever it names) reads again until it is read or WAKE_MEMORY_MS has passed. Events
 * read are remembered as long, because a read can return an event before its own announcement
 * arrives. An event the stream may not list (a token-protected project left out of a stream
 * filtered by event type alone) keeps it reading on every wake-up for that long, as every stream did before
 * announcements named anything. A stream with no filter reads on every wake-up: every event
 * concerns it.
 */
export const createWakeGate = (
  filter: WatchFilter,
  // Monotonic: a wall clock set back would keep ids (and the stream reading) longer.
  now: () => number = () => performance.now(),
): WakeGate => {
  if (filter.projectId === undefined && filter.protocolRunId === undefined && filter.eventType === undefined)
    return { wakes: () => true, read: () => undefined }
  const unread = new ExpiringIds(now)
  const alreadyRead = new ExpiringIds(now)
  return {
    wakes: (announced) => {
      if (announced === undefined) return true
      for (const event of announced)
        if (matches(filter, event) && !alreadyRead.has(event.id)) unread.add(event.id)
      return unread.size() > 0
    },
    read: (events) => {
      for (const { id } of events) {
        unread.delete(id)
        alreadyRead.add(id)
      }
    },
  }
}

/** Ids kept for WAKE_MEMORY_MS after they were added (at most MAX_REMEMBERED, oldest out first). */
class ExpiringIds {
  private readonly until = new Map<number, number>()
  constructor(private readonly now: () => number) {}

  add(id: number): void {
    this.until.delete(id)
    this.until.set(id, this.now() + WAKE_MEMORY_MS)
    if (this.until.size > WAKE_MEMORY_IDS) this.until.delete(this.until.keys().next().value!)
  }
  delete(id: number): void {
    this.until.delete(id)
  }
  has(id: number): boolean {
    this.forgetExpired()
    return this.until.has(id)
  }
  size(): number {
    this.forgetExpired()
    return this.until.size
  }
  // Insertion order is expiry order: every add moves its id to the end with the latest expiry.
  private forgetExpired(): void {
    const at = this.now()
    for (const [id, until] of this.until) {
      if (until > at) return
      this.until.delete(id)
    }
  }
}
