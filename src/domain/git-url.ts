import { AppError } from './app-error.js'
import { hasControlCharacters } from './git-refs.js'
import { normalizePath } from './posix-path.js'

/**
 * What a project's `git_url` may be. Remote: https, ssh (`ssh://` or scp-like `user@host:path`).
 * Local (only when local repositories are allowed): an absolute path, `~/…`, or `file://`.
 * Everything else — `ext::`/`fd::` transports, `http://`, `git://`, option-like text — is refused
 * before git sees it.
 */
export type GitSource =
  | {
      readonly kind: 'remote'
      readonly host: string
      /** Path segments below the host, `.git` removed from the last (GitLab subgroups kept). */
      readonly segments: readonly string[]
    }
  | { readonly kind: 'local'; readonly path: string }

export interface GitUrlPolicy {
  readonly allowLocalRepos: boolean
}

const SEGMENT = /^[A-Za-z0-9_.~+-]+$/
const HOST = /^[A-Za-z0-9.-]+$/
const SCP_LIKE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/

/** Classifies `url` or throws ORC_GIT_URL_REFUSED with a message that never echoes credentials. */
export const parseGitUrl = (url: string, policy: GitUrlPolicy): GitSource => {
  const text = url.trim()
  if (text === '' || hasControlCharacters(text, true))
    refuse(url, 'it is empty or contains spaces or control characters')
  if (text.startsWith('-')) refuse(url, 'it looks like a command-line option')
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(text))
    refuse(url, 'git transport helpers (such as ext:: or fd::) are not allowed')
  if (/(^|[/:])(\.|%2e){1,2}(?=$|[/?#])/i.test(text)) refuse(url, 'it contains "." or ".." path segments')
  if (text.startsWith('/') || text.startsWith('~/')) return local(url, text, policy)
  const scp = SCP_LIKE.exec(text)
  if (scp?.[2] && scp[3]) return remote(url, scp[2], scp[3])
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'file') return local(url, decodeURIComponent(text.slice('file://'.length)), policy)
  if (scheme !== 'https' && scheme !== 'ssh')
    refuse(url, 'only https://, ssh://, git@host:owner/repo and (when allowed) local paths are accepted')
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return refuse(url, 'it is not a valid URL')
  }
  if (parsed.password !== '' || (scheme === 'https' && parsed.username !== ''))
    refuse(url, CREDENTIALS_REFUSED)
  return remote(url, parsed.hostname, decodeURIComponent(parsed.pathname))
}

/**
 * Why a URL carrying a secret is refused rather than stored: the URL is shown in responses,
 * events and git's own messages, so a secret in it would leak (docs/decisions.md).
 */
const CREDENTIALS_REFUSED =
  'it carries credentials; give git its credentials through a credential helper or SSH key on the server instead'

const remote = (url: string, host: string, path: string): GitSource => {
  if (!HOST.test(host) || host.startsWith('-') || host.startsWith('.'))
    refuse(url, 'the host name is invalid')
  const segments = path.split('/').filter((segment) => segment !== '')
  if (segments.length === 0) refuse(url, 'it names no repository path')
  for (const segment of segments)
    if (!SEGMENT.test(segment) || segment === '.' || segment === '..' || segment.startsWith('-'))
      refuse(url, `the path segment ${JSON.stringify(segment)} is not allowed`)
  const last = segments.length - 1
  const withoutGit = (segments[last] ?? '').replace(/\.git$/, '')
  if (withoutGit === '') refuse(url, 'it names no repository')
  return { kind: 'remote', host: host.toLowerCase(), segments: [...segments.slice(0, last), withoutGit] }
}

const local = (url: string, path: string, policy: GitUrlPolicy): GitSource => {
  if (!policy.allowLocalRepos)
    refuse(url, 'local repositories are disabled on this server (TASKSGODZILLA_ALLOW_LOCAL_REPOS=false)')
  if (path.split('/').includes('..')) refuse(url, 'it climbs with ".."')
  if (!path.startsWith('/') && !path.startsWith('~/')) refuse(url, 'a local path must be absolute')
  return { kind: 'local', path: path.startsWith('~/') ? path : normalizePath(path) }
}

const refuse = (url: string, why: string): never => {
  throw new AppError('ORC_GIT_URL_REFUSED', `Git URL ${JSON.stringify(redactGitUrl(url))} is refused: ${why}`)
}

/** The URL with any `user:password@` part masked, for messages and logs. */
export const redactGitUrl = (url: string): string =>
  url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1***@').slice(0, 300)

/** Masks credentials in every URL inside free text (git's stderr quotes remote URLs). */
export const redactUrlsInText = (text: string): string =>
  text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]*@/g, '$1***@')

/**
 * Where a remote is cloned, relative to the projects root: `<host>/<every path segment>`,
 * so GitLab subgroups and same-named repositories of different hosts never collide.
 */
export const cloneDirFor = (source: Extract<GitSource, { kind: 'remote' }>): string =>
  [source.host, ...source.segments].join('/')

/** The repository's own name (the last segment), for display and default project names. */
export const repoNameOf = (source: GitSource): string =>
  source.kind === 'remote'
    ? (source.segments[source.segments.length - 1] ?? 'project')
    : (source.path.split('/').filter(Boolean).pop() ?? 'project').replace(/\.git$/, '')
