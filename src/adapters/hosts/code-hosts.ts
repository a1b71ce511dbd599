import type { CodeHost, CodeHostProvider, CodeHosts } from '../../app/code-host.port.js'
import { HOST_CLIS_BY_PROVIDER as HOST_CLIS } from '../../app/code-host-target.js'
import { createCliHost, findExecutable } from './cli.host.js'
import { createGithubHost } from './github.host.js'
import { createGitlabHost } from './gitlab.host.js'

export interface CodeHostsOptions {
  readonly githubToken: string | undefined
  readonly gitlabToken: string | undefined
  readonly githubApiUrl?: string | undefined
  readonly gitlabUrl?: string | undefined
  /**
   * Where to look for `gh` / `glab` when a provider has no token (a PATH value), and the
   * environment they run with. Absent: no CLI fallback.
   */
  readonly cli?: {
    readonly searchPath: string | undefined
    readonly env: Readonly<Record<string, string | undefined>>
  }
}

/** Each provider through its API when it has a token, else through its CLI when installed. */
export const createCodeHosts = (options: CodeHostsOptions): CodeHosts => {
  const hosts: Record<CodeHostProvider, CodeHost | undefined> = {
    github: options.githubToken
      ? createGithubHost({
          token: options.githubToken,
          ...(options.githubApiUrl ? { baseUrl: options.githubApiUrl } : {}),
        })
      : cliHost('github', options),
    gitlab: options.gitlabToken
      ? createGitlabHost({
          token: options.gitlabToken,
          ...(options.gitlabUrl ? { host: options.gitlabUrl } : {}),
        })
      : cliHost('gitlab', options),
  }
  return { get: (provider) => hosts[provider] }
}

const cliHost = (provider: CodeHostProvider, options: CodeHostsOptions): CodeHost | undefined => {
  if (!options.cli) return undefined
  const executable = findExecutable(HOST_CLIS[provider], options.cli.searchPath)
  if (!executable) return undefined
  const configured = provider === 'github' ? options.githubApiUrl : options.gitlabUrl
  const tokenHost = configured ? { tokenHost: hostOf(configured, provider) } : {}
  return createCliHost({ provider, executable, env: options.cli.env, ...tokenHost })
}

/**
 * The host a configured API URL serves (`api.github.com` is github.com's API); an unreadable URL
 * names no host, so no token goes anywhere.
 */
const hostOf = (url: string, provider: CodeHostProvider): string => {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return ''
  }
  return provider === 'github' && host === 'api.github.com' ? 'github.com' : host
}
