import type { CodeHost, CodeHosts } from '../../app/code-host.port.js'
import { createGithubHost } from './github.host.js'
import { createGitlabHost } from './gitlab.host.js'

export interface CodeHostsOptions {
  readonly githubToken: string | undefined
  readonly gitlabToken: string | undefined
  readonly githubApiUrl?: string | undefined
  readonly gitlabUrl?: string | undefined
}

/** GitHub and GitLab clients for the providers that have a token. */
export const createCodeHosts = (options: CodeHostsOptions): CodeHosts => {
  const github: CodeHost | undefined = options.githubToken
    ? createGithubHost({
        token: options.githubToken,
        ...(options.githubApiUrl ? { baseUrl: options.githubApiUrl } : {}),
      })
    : undefined
  const gitlab: CodeHost | undefined = options.gitlabToken
    ? createGitlabHost({
        token: options.gitlabToken,
        ...(options.gitlabUrl ? { host: options.gitlabUrl } : {}),
      })
    : undefined
  return { get: (provider) => (provider === 'github' ? github : gitlab) }
}
