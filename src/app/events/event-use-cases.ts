import type { EventWithContext } from '../../domain/event.js'
import type { AppDeps } from '../app-deps.js'
import { authorizedListing, authorizeProject, authorizeRunListing } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import type { EventFilter, ReadScope } from '../ports.js'
import { hashToken } from '../secrets.js'

export type EventQuery = Omit<EventFilter, 'excludeProjectIds' | 'visibleTo'>

/**
 * Lists events newest first. A project or run filter enforces that project's token; without
 * one, events of token-protected projects are left out unless the caller holds their token.
 */
export const makeListEvents =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (query: EventQuery, ctx: ChangeOrigin): Promise<EventWithContext[]> => {
    const authorizeScopes = async () => {
      if (query.projectId !== undefined) await authorizeProject(repos, query.projectId, ctx)
      if (query.protocolRunId !== undefined) await authorizeRunListing(repos, query.protocolRunId, ctx)
    }
    const scope = onlyScope(query)
    if (scope !== undefined) {
      const listing = await repos.events.listWithTokenHash(query, scope)
      return authorizedListing(listing, authorizeScopes, ctx)
    }
    await authorizeScopes()
    const scoped = query.projectId !== undefined || query.protocolRunId !== undefined
    if (scoped) return repos.events.list(query)
    // The feed's filter compares the stored hashes in the same statement: they are SHA-256 of
    // random tokens, so a comparison's timing tells nothing about a token.
    const presentedTokenHash = ctx.projectToken === undefined ? null : hashToken(ctx.projectToken)
    return repos.events.list({ ...query, visibleTo: { presentedTokenHash } })
  }

/** The one run or project a listing is limited to; undefined for none, or for both (each is authorized). */
const onlyScope = (query: EventQuery): ReadScope | undefined => {
  if (query.protocolRunId !== undefined)
    return query.projectId === undefined ? { kind: 'run', id: query.protocolRunId } : undefined
  return query.projectId === undefined ? undefined : { kind: 'project', id: query.projectId }
}
