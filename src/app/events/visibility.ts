import type { ChangeOrigin } from '../context.js'
import type { Repositories } from '../ports.js'
import { presentedToken } from '../secrets.js'

/** Ids of token-protected projects whose token the caller did not present. */
export const unreadableProjects = async (
  repos: Pick<Repositories, 'projects'>,
  ctx: ChangeOrigin,
): Promise<number[]> => {
  const protectedProjects = await repos.projects.listTokenHashes()
  const token = ctx.projectToken === undefined ? undefined : presentedToken(ctx.projectToken)
  return protectedProjects
    .filter(({ apiTokenHash }) => token === undefined || !token.matches(apiTokenHash))
    .map(({ projectId }) => projectId)
}
