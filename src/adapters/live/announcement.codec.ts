import { z } from 'zod'
import type { Announced, EventNews } from '../../app/ports.js'

/**
 * Postgres refuses a NOTIFY payload of 8,000 bytes or more; an announcement that would not fit
 * is sent naming nothing, which wakes every stream (as every announcement did before they named).
 */
export const MAX_ANNOUNCEMENT_BYTES = 7_000

/** One event as it travels: [id, project id, run id or null, event type]. */
const WireNews = z.tuple([
  z.number().int().positive(),
  z.number().int().positive(),
  z.number().int().positive().nullable(),
  z.string().max(200),
])
const WireAnnouncement = z.array(WireNews).min(1)

/** The text another process receives: the events' news as JSON, or '' when it names nothing. */
export const encodeAnnouncement = (announced: Announced): string => {
  if (announced === undefined || announced.length === 0) return ''
  const text = JSON.stringify(announced.map((e) => [e.id, e.projectId, e.protocolRunId, e.eventType]))
  return Buffer.byteLength(text) <= MAX_ANNOUNCEMENT_BYTES ? text : ''
}

/**
 * What a received announcement names. Anything that is not a well-formed list (a process of an
 * older version sends '' or '1'; the channel is shared infrastructure, not proof) names nothing,
 * so every stream reads: a wrong hint can cost a read, never an event.
 */
export const decodeAnnouncement = (text: string): Announced => {
  // Characters never outnumber bytes: a payload over the limit in characters is over it in bytes.
  if (text === '' || text.length > MAX_ANNOUNCEMENT_BYTES) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const checked = WireAnnouncement.safeParse(parsed)
  if (!checked.success) return undefined
  return checked.data.map(([id, projectId, protocolRunId, eventType]): EventNews => ({
    id,
    projectId,
    protocolRunId,
    eventType,
  }))
}

/** Events one announcement names at most; more are sent naming nothing (every stream reads once). */
export const MAX_NEWS_PER_ANNOUNCEMENT = 100

/** Joins announcements folded into one send: naming nothing wins, as does a list grown past the cap. */
export const joinAnnouncements = (a: Announced, b: Announced): Announced =>
  a === undefined || b === undefined || a.length + b.length > MAX_NEWS_PER_ANNOUNCEMENT
    ? undefined
    : [...a, ...b]
