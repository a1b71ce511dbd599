import type { EventWithContext } from '../../domain/event.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject, authorizeRunListing } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { EventFilter } from '../ports.js'
import { unreadableProjects } from './visibility.js'

export type EventQuery = Omit<EventFilter, 'excludeProjectIds'>

/**
 * Lists events newest first. A project or run filter enforces that project's token; without
 * one, events of token-protected projects are left out unless the caller holds their token.
 */
export const makeListEvents =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (query: EventQuery, ctx: ChangeOrigin): Promise<EventWithContext[]> => {
    if (query.projectId !== undefined) await authorizeProject(repos, query.projectId, ctx)
    if (query.protocolRunId !== undefined) await authorizeRunListing(repos, query.protocolRunId, ctx)
    const scoped = query.projectId !== undefined || query.protocolRunId !== undefined
    const excludeProjectIds = scoped ? [] : await unreadableProjects(repos, ctx)
    return repos.events.list({ ...query, excludeProjectIds })
  }
