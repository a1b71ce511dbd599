import { isAbsolute, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { isInside } from '../../domain/posix-path.js'
import type { Project } from '../../domain/project.js'
import type { ContainedFiles } from '../contained-files.js'
import type { GitClient } from '../git.port.js'

/** A path a caller gave, checked to lie in its project's own folder. */
export interface PathInProjectFolder {
  /** The path resolved (`..` collapsed), as written. */
  readonly lexical: string
  /** Its real path when it exists (symlinks followed), else undefined. */
  readonly real: string | undefined
}

/**
 * Checks that a caller-supplied path (`field` names it in the 422) lies inside the project's own
 * folder — its checkout, wherever `locateRepo` puts it — and nowhere else: not the projects root
 * at large (another project's clone lives there), not a sibling. The location is checked before
 * existence, so a path outside is the same 422 whether or not it exists (no probing the server's
 * folders): first as written, then through every existing symlink, so a link cannot smuggle in
 * another folder either. A project whose checkout does not exist yet has no folder to point into.
 */
/** What locating and resolving a project's folder needs. */
export interface ProjectFolderDeps {
  readonly git: Pick<GitClient, 'locateRepo'>
  readonly files: Pick<ContainedFiles, 'realPath' | 'exists'>
}

export const checkInsideProjectFolder = (
  { git, files }: ProjectFolderDeps,
  project: Project,
  path: string,
  field: string,
): PathInProjectFolder => {
  if (!isAbsolute(path))
    throw new AppError('ORC_VALIDATION_FAILED', `${field} ${JSON.stringify(path)} must be an absolute path`, {
      field,
    })
  const folder = projectFolderOf(git, project)
  const realFolder = folder === undefined ? undefined : realOrUndefined(files, folder)
  const lexical = resolve(path)
  const deepest = files.realPath(lexical)
  const insideAsWritten =
    folder !== undefined && [resolve(folder), realFolder ?? folder].some((root) => isInside(root, lexical))
  const insideReally = realFolder !== undefined && deepest !== undefined && isInside(realFolder, deepest)
  if (!insideAsWritten || !insideReally)
    throw new AppError(
      'ORC_PATH_OUTSIDE_ROOT',
      `${field} ${JSON.stringify(path)} is outside the project's own folder` +
        (folder === undefined ? ' (its checkout is not known)' : ` ${folder}`),
      { field, [field]: path },
    )
  return { lexical, real: realOrUndefined(files, lexical) }
}

/** The project's checkout (clone, `local_path` or local work tree); undefined when its URL is refused. */
const projectFolderOf = (git: Pick<GitClient, 'locateRepo'>, project: Project): string | undefined => {
  try {
    return git.locateRepo({ gitUrl: project.gitUrl, localPath: project.localPath }).path
  } catch {
    return undefined
  }
}

const realOrUndefined = (files: ProjectFolderDeps['files'], path: string): string | undefined =>
  files.exists(resolve(path)) ? files.realPath(resolve(path)) : undefined
