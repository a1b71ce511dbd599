import {
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  writeSync,
  closeSync,
} from 'node:fs'
import { dirname, resolve } from 'node:path'
import { AppError } from '../domain/app-error.js'
import { isInside } from '../domain/posix-path.js'

/**
 * File access confined to a workspace whose content an agent or a repository controls: a symlink
 * (or a symlinked folder) there may point anywhere, e.g. `inputs/specifications.md ->
 * /proc/self/environ` or `outputs -> ~/.ssh`. Each call checks at use time, on the real path of the
 * deepest existing ancestor, and throws ORC_PATH_OUTSIDE_ROOT (details.cause
 * `path_outside_workspace`) rather than reading or writing outside.
 */

/** The cause recorded when a path is refused. */
export const PATH_OUTSIDE_WORKSPACE = 'path_outside_workspace'

/** Throws unless `path` (followed through every existing symlink) stays inside `workspace`. */
export const assertInsideWorkspace = (workspace: string, path: string): void => {
  const root = realpathSync(workspace)
  const real = realPathOfDeepestAncestor(resolve(workspace, path))
  if (real === undefined || !isInside(root, real)) throw outside(workspace, path)
}

/** The text of a file inside the workspace; `fallback` when it does not exist or cannot be read. */
export const readContainedText = (workspace: string, path: string, fallback = ''): string => {
  assertInsideWorkspace(workspace, path)
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

/**
 * Writes a file inside the workspace, creating its folder. A symlink as the file itself is
 * refused even when it points inside: O_NOFOLLOW keeps a link swapped in after the check out too.
 */
export const writeContainedText = (workspace: string, path: string, text: string, append = false): void => {
  const target = resolve(workspace, path)
  if (isSymlink(target)) throw outside(workspace, path)
  assertInsideWorkspace(workspace, dirname(target))
  mkdirSync(dirname(target), { recursive: true })
  assertInsideWorkspace(workspace, dirname(target))
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (append ? constants.O_APPEND : constants.O_TRUNC)
  let fd: number
  try {
    fd = openSync(target, flags, 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw outside(workspace, path)
    throw error
  }
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

/** True for a contained-files refusal. */
export const isPathOutsideWorkspace = (error: unknown): error is AppError =>
  error instanceof AppError &&
  error.code === 'ORC_PATH_OUTSIDE_ROOT' &&
  error.details?.cause === PATH_OUTSIDE_WORKSPACE

/**
 * The real path of absolute `path`, or of its deepest existing ancestor with the missing rest
 * appended; undefined when a dangling link or a loop makes it unknowable.
 */
export const realPathOfDeepestAncestor = (path: string): string | undefined => {
  const missing: string[] = []
  let current = path
  for (;;) {
    try {
      return resolve(realpathSync(current), ...missing.reverse())
    } catch (error) {
      const parent = dirname(current)
      const code = (error as NodeJS.ErrnoException).code
      // A dangling link or a loop: where it leads is unknown, so it counts as outside.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current || isSymlink(current))
        return undefined
      missing.push(current.slice(parent.length).replace(/^\//, ''))
      current = parent
    }
  }
}

const isSymlink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

const outside = (workspace: string, path: string): AppError =>
  new AppError('ORC_PATH_OUTSIDE_ROOT', `${path} leads outside the workspace ${workspace}`, {
    cause: PATH_OUTSIDE_WORKSPACE,
    path,
  })
