import type { Announced, EventNews } from '../ports.js'

/** What a live stream watches: every field given must match. */
export interface WatchFilter {
  readonly projectId?: number
  readonly protocolRunId?: number
  readonly eventType?: string
}

const matches = (filter: WatchFilter, event: EventNews): boolean =>
  (filter.projectId === undefined || event.projectId === filter.projectId) &&
  (filter.protocolRunId === undefined || event.protocolRunId === filter.protocolRunId) &&
  (filter.eventType === undefined || event.eventType === filter.eventType)

/**
 * Which wake-ups a live stream reads on. One that names nothing may concern anything, so it reads.
 * One that names committed events reads only while an event matching the stream's filter has been
 * named past the stream's cursor, so a stream watching one run no longer reads on every other
 * run's commit.
 *
 * Named ids are remembered until the cursor passes them: on Postgres an event may commit while an
 * older transaction that can still commit a lower id is running, and it is listed only once that
 * one ends, so the read on its own wake-up can find nothing. Every later wake-up (whatever it
 * names) reads again until the stream has delivered past the highest id named for it. An event
 * the stream cannot list (a project left out of an unscoped stream) keeps it reading on every
 * wake-up, as all streams did before announcements named anything.
 */
export const createWakeGate = (filter: WatchFilter) => {
  let namedUpTo = 0
  return (announced: Announced, cursor: number): boolean => {
    if (announced === undefined) return true
    for (const event of announced) if (event.id > namedUpTo && matches(filter, event)) namedUpTo = event.id
    return namedUpTo > cursor
  }
}
