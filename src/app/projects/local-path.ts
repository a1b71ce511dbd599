import { existsSync, realpathSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { isInside } from '../../domain/posix-path.js'
import { systemPathProblem } from '../../domain/system-paths.js'

export interface RepoPolicy {
  /** `TASKSGODZILLA_PROJECTS_ROOT`: where clones go. */
  readonly projectsRoot: string
  /** `TASKSGODZILLA_ALLOW_LOCAL_REPOS`: checkouts (and local git URLs) outside the projects root. */
  readonly allowLocalRepos: boolean
}

/**
 * A caller's `local_path`, checked before it is stored (422 otherwise): absolute, inside the
 * projects root unless local repositories are allowed, never a system folder or a shared root
 * (as written and through symlinks), and an existing git work tree — so a project cannot widen
 * what runs may touch to the disk. Returns the path resolved.
 */
export const checkLocalPath = (localPath: string, policy: RepoPolicy): string => {
  const expanded = localPath.startsWith('~/') ? join(homedir(), localPath.slice(2)) : localPath
  if (!isAbsolute(expanded)) refuse(localPath, 'it must be an absolute path')
  const path = resolve(expanded)
  const real = realOrSelf(path)
  for (const candidate of new Set([path, real])) {
    const problem = systemPathProblem(candidate, homedir())
    if (problem !== undefined) refuse(localPath, problem)
    if (!policy.allowLocalRepos && !isInside(realOrSelf(policy.projectsRoot), candidate) && !isInside(policy.projectsRoot, candidate))
      refuse(localPath, 'it lies outside TASKSGODZILLA_PROJECTS_ROOT and local repositories are disabled')
  }
  if (!isWorkTree(real)) refuse(localPath, 'it is not an existing git work tree')
  return path
}

const refuse = (localPath: string, why: string): never => {
  throw new AppError('ORC_VALIDATION_FAILED', `local_path ${JSON.stringify(localPath)} is refused: ${why}`, {
    field: 'local_path',
  })
}

const realOrSelf = (path: string): string => {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/** A folder with a `.git` entry (a clone or a worktree), as git itself would work in. */
const isWorkTree = (path: string): boolean => {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, '.git'))
  } catch {
    return false
  }
}
