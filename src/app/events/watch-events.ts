import type { EventWithContext } from '../../domain/event.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject, authorizeRun } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { EventSignal } from '../ports.js'
import { unreadableProjects } from './visibility.js'

export interface WatchFilter {
  readonly projectId?: number
  readonly protocolRunId?: number
  readonly eventType?: string
}

export interface EventWatch {
  /** Events after `afterId`, oldest first, at most `limit`. */
  readonly after: (afterId: number, limit: number) => Promise<EventWithContext[]>
  /** The newest event id matching the filter (0 when none), where a stream without a cursor starts. */
  readonly latestId: () => Promise<number>
  readonly signal: EventSignal
}

/**
 * Authorizes a live event stream once (project token, as for listing) and returns how to read
 * it: every read goes to the events table, so a reader never misses or reorders what committed.
 */
export const makeWatchEvents =
  ({ repos, signal }: Pick<AppDeps, 'repos'> & { signal: EventSignal }) =>
  async (filter: WatchFilter, ctx: ChangeOrigin): Promise<EventWatch> => {
    if (filter.projectId !== undefined) await authorizeProject(repos, filter.projectId, ctx)
    if (filter.protocolRunId !== undefined) await authorizeRun(repos, filter.protocolRunId, ctx)
    const scoped = filter.projectId !== undefined || filter.protocolRunId !== undefined
    const excludeProjectIds = scoped ? [] : await unreadableProjects(repos, ctx)
    const base = { ...filter, excludeProjectIds }
    return {
      after: (afterId, limit) => repos.events.list({ ...base, afterId, limit, order: 'asc' }),
      latestId: async () => (await repos.events.list({ ...base, limit: 1 }))[0]?.id ?? 0,
      signal,
    }
  }
