import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { isInside } from '../../domain/posix-path.js'
import { systemPathProblem } from '../../domain/system-paths.js'
import type { ContainedFiles } from '../contained-files.js'

/** What checking a local path needs of the disk. */
export type LocalPathProbe = Pick<ContainedFiles, 'realPath' | 'isDirectory' | 'exists'>

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
 * what runs may touch to the disk. Returns the path resolved. `files` only probes the disk: the
 * path is the caller's, checked against the policy, so no workspace contains it.
 */
export const checkLocalPath = (files: LocalPathProbe, localPath: string, policy: RepoPolicy): string => {
  const expanded = localPath.startsWith('~/') ? join(homedir(), localPath.slice(2)) : localPath
  if (!isAbsolute(expanded)) refuse(localPath, 'it must be an absolute path')
  const path = resolve(expanded)
  const realOrSelf = (candidate: string): string => files.realPath(candidate) ?? candidate
  const real = realOrSelf(path)
  for (const candidate of new Set([path, real])) {
    const problem = systemPathProblem(candidate, homedir())
    if (problem !== undefined) refuse(localPath, problem)
    if (!policy.allowLocalRepos && !isInside(realOrSelf(policy.projectsRoot), candidate) && !isInside(policy.projectsRoot, candidate))
      refuse(localPath, 'it lies outside TASKSGODZILLA_PROJECTS_ROOT and local repositories are disabled')
  }
  if (!files.isDirectory(real) || !files.exists(join(real, '.git'))) refuse(localPath, 'it is not an existing git work tree')
  return path
}

const refuse = (localPath: string, why: string): never => {
  throw new AppError('ORC_VALIDATION_FAILED', `local_path ${JSON.stringify(localPath)} is refused: ${why}`, {
    field: 'local_path',
  })
}
