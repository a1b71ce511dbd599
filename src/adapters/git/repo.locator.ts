import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, normalize, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { cloneDirFor, parseGitUrl } from '../../domain/git-url.js'
import { isInside } from '../../domain/posix-path.js'
import type { RepoLocation, RepoSource } from '../../app/git.port.js'

export interface RepoPolicy {
  /** Absolute root for clones (`TASKSGODZILLA_PROJECTS_ROOT`). */
  readonly projectsRoot: string
  readonly allowLocalRepos: boolean
  /** `TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS`: clones may reach private addresses (default false). */
  readonly allowPrivateHosts?: boolean
  /** `TASKSGODZILLA_GIT_CLONE_TIMEOUT_SECONDS` in ms: the limit for one clone (default 120 s). */
  readonly cloneTimeoutMs?: number
}

/**
 * Resolves where a project's checkout is, creating nothing (reads never make directories):
 * 1. the stored `local_path` (outside the projects root only when local repos are allowed);
 * 2. a `git_url` that is itself a local work tree;
 * 3. `<projects root>/<host>/<full path>` for remotes, `<projects root>/local/<path>` for
 *    `file://` URLs and bare local repositories (they are cloned, not worked in).
 */
export const locateRepo = (source: RepoSource, policy: RepoPolicy): RepoLocation => {
  const parsed = parseGitUrl(source.gitUrl, policy)
  if (source.localPath) return fromLocalPath(source.localPath, policy)
  if (parsed.kind === 'local') {
    const path = expandHome(parsed.path)
    const isFileUrl = source.gitUrl.trim().toLowerCase().startsWith('file://')
    if (!isFileUrl && isWorkTree(path)) return { path, exists: true, origin: 'git_url_path' }
    const target = join(policy.projectsRoot, 'local', ...path.split('/').filter(Boolean))
    return { path: target, exists: existsSync(target), origin: 'projects_root' }
  }
  const target = join(policy.projectsRoot, ...cloneDirFor(parsed).split('/'))
  return { path: target, exists: existsSync(target), origin: 'projects_root' }
}

const fromLocalPath = (localPath: string, policy: RepoPolicy): RepoLocation => {
  const path = normalize(resolve(expandHome(localPath)))
  if (!isAbsolute(expandHome(localPath)))
    throw new AppError('ORC_PATH_OUTSIDE_ROOT', `local_path ${JSON.stringify(localPath)} must be absolute`)
  if (!policy.allowLocalRepos && !isInside(policy.projectsRoot, path))
    throw new AppError(
      'ORC_PATH_OUTSIDE_ROOT',
      `local_path ${JSON.stringify(localPath)} lies outside the projects root and local repositories are disabled`,
    )
  return { path, exists: existsSync(path), origin: 'local_path' }
}

const expandHome = (path: string): string => (path.startsWith('~/') ? join(homedir(), path.slice(2)) : path)

/** A directory with a `.git` entry (a clone or a worktree), as opposed to a bare repository. */
const isWorkTree = (path: string): boolean => {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, '.git'))
  } catch {
    return false
  }
}
