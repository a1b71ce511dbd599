import { parseGitUrl } from '../domain/git-url.js'
import type { Project } from '../domain/project.js'
import type { CodeHostProvider, HostRepository } from './code-host.port.js'

export interface HostTarget extends HostRepository {
  readonly provider: CodeHostProvider
  readonly hostName: string
}

/**
 * Where a project lives on a code host: the provider (the project's ci_provider when it is
 * github/gitlab, else guessed from the host name) and the repository path, from its git URL.
 * Undefined for local repositories and URLs that name no host.
 */
export const hostTargetOf = (project: Project): HostTarget | undefined => {
  let source
  try {
    source = parseGitUrl(project.gitUrl, { allowLocalRepos: false })
  } catch {
    return undefined
  }
  if (source.kind !== 'remote') return undefined
  const named =
    project.ciProvider === 'github' || project.ciProvider === 'gitlab' ? project.ciProvider : undefined
  return {
    provider: named ?? (source.host.includes('gitlab') ? 'gitlab' : 'github'),
    hostName: source.host,
    repository: [...source.segments],
  }
}

/** The setting a provider needs for the API path, named for error messages. */
export const HOST_TOKEN_VARIABLES: Record<CodeHostProvider, string> = {
  github: 'GITHUB_TOKEN or GH_TOKEN',
  gitlab: 'GITLAB_TOKEN',
}

/** The CLI each provider falls back to (the adapter finds and runs it). */
export const HOST_CLIS_BY_PROVIDER: Record<CodeHostProvider, string> = { github: 'gh', gitlab: 'glab' }

/** Why no host can be reached: neither a token nor the provider's CLI. */
export const unreachableHost = (target: HostTarget): string =>
  `No ${target.provider} token is configured (${HOST_TOKEN_VARIABLES[target.provider]}) and the ` +
  `${HOST_CLIS_BY_PROVIDER[target.provider]} CLI is not installed.`
