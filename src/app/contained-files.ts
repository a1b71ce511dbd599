import { AppError } from '../domain/app-error.js'

/**
 * File access confined to a workspace whose content an agent or a repository controls (a
 * worktree, a CodeMachine workspace): a symlink there may point anywhere (`01-x.md ->
 * /proc/self/environ`, `outputs -> ~/.ssh`), and a FIFO or a device may stand where a file is
 * expected. This port is the only way the app reads or writes such files; src/adapters/files
 * implements it over node:fs. Each call checks at use time and throws ORC_PATH_OUTSIDE_ROOT
 * (details.cause one of {@link REFUSAL_CAUSES}) instead of touching anything it refuses. A
 * refusal never carries the file's content.
 */
export interface ContainedFiles {
  /**
   * The UTF-8 text of a regular file whose real path is inside `workspace`, at most the adapter's
   * size cap; `fallback` when nothing exists there. Refuses (throws) a path leading outside, a
   * FIFO, device, socket or folder, and a file over the cap; never blocks on a FIFO.
   */
  readText(workspace: string, path: string, fallback?: string): string
  /**
   * Writes (or appends to) a file inside `workspace`, creating its folder. A symlink as the file
   * itself is refused even when it points inside; it does not check what a hook does later.
   */
  writeText(workspace: string, path: string, text: string, append?: boolean): void
  /**
   * Creates file `path` inside `workspace` (creating its folder) with permission bits `mode`,
   * whatever the umask; false, touching nothing, when anything (even a symlink, even one appearing
   * meanwhile) already stands there. Refuses (throws) a folder leading outside.
   */
  createText(workspace: string, path: string, text: string, mode: number): boolean
  /** Throws unless `path` (followed through every existing symlink) stays inside `workspace`. */
  assertInside(workspace: string, path: string): void
  /**
   * The real path of absolute `path`, or of its deepest existing ancestor with the missing rest
   * appended; undefined when a dangling link or a loop makes it unknowable. No containment check.
   */
  realPath(path: string): string | undefined
  /** True for an existing folder (following symlinks); false for anything else or nothing. */
  isDirectory(path: string): boolean
  /** True when something exists at `path` (following symlinks); says nothing about containment. */
  exists(path: string): boolean
  /** Names of the entries directly in folder `path`; none when it is missing or not a folder. */
  list(path: string): string[]
}

/** The cause recorded when a path leads outside the workspace. */
export const PATH_OUTSIDE_WORKSPACE = 'path_outside_workspace'
/** The cause recorded for a FIFO, device, socket or folder where a file was expected. */
export const NOT_A_REGULAR_FILE = 'not_a_regular_file'
/** The cause recorded for a file larger than the cap. */
export const FILE_TOO_LARGE = 'file_too_large'

export const REFUSAL_CAUSES = [PATH_OUTSIDE_WORKSPACE, NOT_A_REGULAR_FILE, FILE_TOO_LARGE] as const
export type RefusalCause = (typeof REFUSAL_CAUSES)[number]

/** Default size cap of one contained read (prompts, plans, configs): 1 MiB. */
export const DEFAULT_CONTAINED_FILE_MAX_BYTES = 1024 * 1024

/** The refusal for `path`; its message names the path and the reason, never the content. */
export const containedFileRefusal = (
  workspace: string,
  path: string,
  cause: RefusalCause,
  detail?: string,
): AppError => {
  const why: Record<RefusalCause, string> = {
    [PATH_OUTSIDE_WORKSPACE]: `leads outside the workspace ${workspace}`,
    [NOT_A_REGULAR_FILE]: `is not a regular file (${detail ?? 'special file'})`,
    [FILE_TOO_LARGE]: `is larger than ${detail ?? 'the cap'}`,
  }
  return new AppError('ORC_PATH_OUTSIDE_ROOT', `${path} ${why[cause]}`, { cause, path })
}

/** True for a contained-files refusal (outside, not a regular file, too large). */
export const isPathOutsideWorkspace = (error: unknown): error is AppError =>
  error instanceof AppError &&
  error.code === 'ORC_PATH_OUTSIDE_ROOT' &&
  (REFUSAL_CAUSES as readonly unknown[]).includes(error.details?.cause)
