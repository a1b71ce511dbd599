import type { RequestContext } from '../context.js'
import type { Repositories } from '../ports.js'
import { tokenMatchesHash } from '../secrets.js'

/** Ids of token-protected projects whose token the caller did not present. */
export const unreadableProjects = async (
  repos: Pick<Repositories, 'projects'>,
  ctx: RequestContext,
): Promise<number[]> => {
  const protectedProjects = await repos.projects.listTokenHashes()
  return protectedProjects
    .filter(
      ({ apiTokenHash }) =>
        ctx.projectToken === undefined || !tokenMatchesHash(ctx.projectToken, apiTokenHash),
    )
    .map(({ projectId }) => projectId)
}
