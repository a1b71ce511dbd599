import type { EventWithContext } from '../../domain/event.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject, authorizeRun } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { Announced, EventFilter, EventSignal, ReadScope } from '../ports.js'
import { sharedPerTurn, sharedWithinTurn } from '../reads-per-turn.js'
import { unreadableProjects } from './visibility.js'
import { createWakeGate, type WatchFilter } from './wake-gate.js'

export type { WatchFilter } from './wake-gate.js'

export interface EventWatch {
  /** Events after `afterId`, oldest first, at most `limit` (shared with other streams: read only). */
  readonly after: (afterId: number, limit: number) => Promise<readonly EventWithContext[]>
  /** The newest event id matching the filter (0 when none), where a stream without a cursor starts. */
  readonly latestId: () => Promise<number>
  readonly signal: EventSignal
  /** Whether a wake-up that announced `announced` may bring the stream an event to read. */
  readonly wakes: (announced: Announced) => boolean
  /**
   * The version of what the stream watches (a run's events for a stream of one run, else all
   * data; moves with any commit to it, by any process): a poll that finds it where the last poll
   * left it has nothing new to read. Undefined when unknown; then the poll reads.
   */
  readonly pollVersion: () => Promise<string | undefined>
}

/** Reads retried while the protected set changes under them, before one is skipped. */
const MAX_READS_PER_CHANGE = 3

/**
 * Authorizes a live event stream at open (project token, as for listing) and again before every
 * read whose protected-project set has changed since the last one (`tokenSetVersion`), so a
 * project created with or given a token later is filtered out, and a scoped stream whose project
 * token was rotated away fails its next read with the 401/403 error (the stream then ends). Every
 * read goes to the events table, so a reader never misses or reorders what committed.
 *
 * Streams share their reads: a commit wakes every stream it concerns in the same turn, and those
 * with the same filter, access and cursor (every dashboard that is up to date) ask for the same
 * page, read once for all of them (`sharedWithinTurn`: the read begins after each of them asked;
 * other pages, a catch-up's included, are read beside it, and each fails alone).
 * The token set's version is read once per turn for all streams alike.
 */
export const makeWatchEvents = ({
  repos,
  signal,
  scopeVersion,
}: Pick<AppDeps, 'repos'> & {
  signal: EventSignal
  scopeVersion: (scope: ReadScope) => Promise<string | undefined>
}) => {
  const list = sharedWithinTurn(
    (query: EventFilter) => repos.events.list(query),
    // The excluded set, not its order, decides the page.
    (query) => JSON.stringify({ ...query, excludeProjectIds: [...(query.excludeProjectIds ?? [])].sort() }),
  )
  const tokenSetVersion = sharedPerTurn(() => repos.projects.tokenSetVersion())
  return async (filter: WatchFilter, ctx: ChangeOrigin): Promise<EventWatch> => {
    const access = streamAccess(repos, tokenSetVersion, filter, ctx)
    const base = await access.current()
    const gate = createWakeGate(filter)
    const read = async (afterId: number, limit: number) => {
      for (let attempt = 0; attempt < MAX_READS_PER_CHANGE; attempt += 1) {
        const excludeProjectIds = await access.current()
        const events = await list({ ...filter, excludeProjectIds, afterId, limit, order: 'asc' })
        // A token given while the read ran may cover events it returned: read again with it.
        if (events.length === 0 || !(await access.changed())) {
          gate.read(events)
          return events
        }
      }
      // Tokens keep changing under the read: send nothing now; the next wake-up reads again.
      return []
    }
    return {
      after: read,
      latestId: async () =>
        (await repos.events.list({ ...filter, excludeProjectIds: base, limit: 1 }))[0]?.id ?? 0,
      signal,
      wakes: gate.wakes,
      pollVersion: () => scopeVersion(watchedScope(filter)),
    }
  }
}

/**
 * A stream of one run polls its run's events scope (which also moves with its project's token),
 * so commits to other runs leave its poll idle; any other stream polls all data.
 */
const watchedScope = (filter: WatchFilter): ReadScope =>
  filter.protocolRunId === undefined ? { kind: 'all', id: 0 } : { kind: 'events', id: filter.protocolRunId }

/**
 * Who may read what, re-checked only when the set of token-protected projects changes: the
 * project ids a stream must leave out, or the token error of a scoped stream's project.
 */
const streamAccess = (
  repos: Pick<AppDeps['repos'], 'projects' | 'runs' | 'steps'>,
  tokenSetVersion: () => Promise<string>,
  filter: WatchFilter,
  ctx: ChangeOrigin,
) => {
  const scoped = filter.projectId !== undefined || filter.protocolRunId !== undefined
  let version: string | undefined
  let excluded: Promise<number[]> = Promise.resolve([])
  const authorize = async (): Promise<number[]> => {
    if (filter.projectId !== undefined) await authorizeProject(repos, filter.projectId, ctx)
    if (filter.protocolRunId !== undefined) await authorizeRun(repos, filter.protocolRunId, ctx)
    return scoped ? [] : unreadableProjects(repos, ctx)
  }
  return {
    /** The ids to leave out now; throws the token error when a scoped stream may no longer read. */
    current: async (): Promise<number[]> => {
      const now = await tokenSetVersion()
      if (now !== version) {
        version = now
        excluded = authorize()
      }
      return excluded
    },
    /** True when the protected set changed since `current` last looked. */
    changed: async (): Promise<boolean> => (await tokenSetVersion()) !== version,
  }
}
