import type { EventWithContext } from '../../domain/event.js'
import type { AppDeps } from '../app-deps.js'
import { authorizedListing, authorizeProject, authorizeRunListing, readerOf } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { EventFilter } from '../ports.js'

export type EventQuery = Omit<EventFilter, 'excludeProjectIds' | 'readableBy'>

/**
 * Lists events newest first. A project or run filter enforces that project's token; without
 * one, events of token-protected projects are left out unless the caller holds their token.
 * Either way the listing is read for the caller, so it holds only what the token may see; an
 * empty filtered listing is then authorized to tell an unknown or refused scope from an empty one.
 */
export const makeListEvents =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (query: EventQuery, ctx: ChangeOrigin): Promise<EventWithContext[]> => {
    const events = await repos.events.list({ ...query, readableBy: readerOf(ctx) })
    return authorizedListing(events, async () => {
      if (query.projectId !== undefined) await authorizeProject(repos, query.projectId, ctx)
      if (query.protocolRunId !== undefined) await authorizeRunListing(repos, query.protocolRunId, ctx)
    })
  }
