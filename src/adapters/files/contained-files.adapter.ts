import {
  closeSync,
  fchmodSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  containedFileRefusal,
  DEFAULT_CONTAINED_FILE_MAX_BYTES,
  FILE_TOO_LARGE,
  NOT_A_REGULAR_FILE,
  PATH_OUTSIDE_WORKSPACE,
  type ContainedFiles,
} from '../../app/contained-files.js'
import { isInside } from '../../domain/posix-path.js'

export interface ContainedFilesOptions {
  /** `TASKSGODZILLA_MAX_CONTAINED_FILE_BYTES`: the largest file one read accepts. */
  readonly maxBytes?: number
}

/**
 * ContainedFiles over node:fs. A read resolves the real path, checks it is inside the workspace,
 * opens it with O_NOFOLLOW | O_NONBLOCK (a FIFO swapped in after the check opens at once instead
 * of waiting for a writer), then fstat()s the open descriptor: only a regular file, the same one
 * that was checked, no larger than the cap, is read, and never more than cap + 1 bytes of it.
 */
export const createContainedFiles = (options: ContainedFilesOptions = {}): ContainedFiles => {
  const maxBytes = options.maxBytes ?? DEFAULT_CONTAINED_FILE_MAX_BYTES
  return {
    readText: (workspace, path, fallback = '') => readContained(workspace, path, fallback, maxBytes),
    writeText: writeContained,
    createText: createContained,
    assertInside: assertInsideWorkspace,
    realPath: realPathOfDeepestAncestor,
    isDirectory: (path) => statOf(path)?.isDirectory() ?? false,
    exists: (path) => existsSync(path),
    list: (path) => (statOf(path)?.isDirectory() ? readdirSync(path) : []),
  }
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

const readContained = (workspace: string, path: string, fallback: string, maxBytes: number): string => {
  const target = resolve(workspace, path)
  assertInsideWorkspace(workspace, target)
  if (!existsSync(target)) return fallback
  const real = realpathSync(target)
  let fd: number
  try {
    fd = openSync(real, READ_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return fallback
    if (code === 'ELOOP') throw containedFileRefusal(workspace, path, PATH_OUTSIDE_WORKSPACE)
    throw error
  }
  try {
    const opened = fstatSync(fd)
    if (!opened.isFile()) throw containedFileRefusal(workspace, path, NOT_A_REGULAR_FILE, kindOf(opened))
    if (opened.size > maxBytes)
      throw containedFileRefusal(workspace, path, FILE_TOO_LARGE, `${maxBytes} bytes`)
    // What was opened must be what was checked: a folder swapped on the way would differ.
    const checked = statOf(real)
    if (!checked || checked.ino !== opened.ino || checked.dev !== opened.dev)
      throw containedFileRefusal(workspace, path, PATH_OUTSIDE_WORKSPACE)
    return readAtMost(fd, opened.size, maxBytes, () =>
      containedFileRefusal(workspace, path, FILE_TOO_LARGE, `${maxBytes} bytes`),
    )
  } finally {
    closeSync(fd)
  }
}

/**
 * Reads to the end, refusing past `maxBytes` (a file may grow, or lie about its size). The buffer
 * starts at the size fstat() gave, plus the byte that shows the end, and doubles only for a file
 * that grew: a zeroed buffer of the whole cap cost ~0.6 ms per read of a one-line file. Only the
 * bytes read are ever decoded, so it need not be zeroed.
 */
const readAtMost = (fd: number, size: number, maxBytes: number, tooLarge: () => Error): string => {
  const cap = maxBytes + 1
  let buffer = Buffer.allocUnsafe(Math.min(cap, size + 1))
  let length = 0
  for (;;) {
    if (length === buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(cap, buffer.length * 2))
      buffer.copy(grown, 0, 0, length)
      buffer = grown
    }
    const n = readSync(fd, buffer, length, buffer.length - length, null)
    if (n === 0) break
    length += n
    if (length > maxBytes) throw tooLarge()
  }
  return buffer.toString('utf8', 0, length)
}

const writeContained = (workspace: string, path: string, text: string, append = false): void => {
  const target = resolve(workspace, path)
  if (lstatOf(target)?.isSymbolicLink()) throw containedFileRefusal(workspace, path, PATH_OUTSIDE_WORKSPACE)
  assertInsideWorkspace(workspace, dirname(target))
  mkdirSync(dirname(target), { recursive: true })
  assertInsideWorkspace(workspace, dirname(target))
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    constants.O_NONBLOCK |
    (append ? constants.O_APPEND : constants.O_TRUNC)
  let fd: number
  try {
    fd = openSync(target, flags, 0o644)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP') throw containedFileRefusal(workspace, path, PATH_OUTSIDE_WORKSPACE)
    if (code === 'ENXIO' || code === 'EISDIR') throw containedFileRefusal(workspace, path, NOT_A_REGULAR_FILE)
    throw error
  }
  try {
    const opened = fstatSync(fd)
    if (!opened.isFile()) throw containedFileRefusal(workspace, path, NOT_A_REGULAR_FILE, kindOf(opened))
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

const createContained = (workspace: string, path: string, text: string, mode: number): boolean => {
  const target = resolve(workspace, path)
  assertInsideWorkspace(workspace, dirname(target))
  mkdirSync(dirname(target), { recursive: true })
  assertInsideWorkspace(workspace, dirname(target))
  let fd: number
  try {
    fd = openSync(target, CREATE_FLAGS, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    fchmodSync(fd, mode)
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  return true
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

const assertInsideWorkspace = (workspace: string, path: string): void => {
  const root = realpathSync(workspace)
  const real = realPathOfDeepestAncestor(resolve(workspace, path))
  if (real === undefined || !isInside(root, real))
    throw containedFileRefusal(workspace, path, PATH_OUTSIDE_WORKSPACE)
}

const realPathOfDeepestAncestor = (path: string): string | undefined => {
  const missing: string[] = []
  let current = path
  for (;;) {
    try {
      return resolve(realpathSync(current), ...missing.reverse())
    } catch (error) {
      const parent = dirname(current)
      const code = (error as NodeJS.ErrnoException).code
      // A dangling link or a loop: where it leads is unknown, so it counts as outside.
      if (
        (code !== 'ENOENT' && code !== 'ENOTDIR') ||
        parent === current ||
        lstatOf(current)?.isSymbolicLink()
      )
        return undefined
      missing.push(current.slice(parent.length).replace(/^\//, ''))
      current = parent
    }
  }
}

const kindOf = (stats: Stats): string =>
  stats.isFIFO()
    ? 'FIFO'
    : stats.isDirectory()
      ? 'folder'
      : stats.isSocket()
        ? 'socket'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'device'
          : 'special file'

const statOf = (path: string): Stats | undefined => {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

const lstatOf = (path: string): Stats | undefined => {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}
