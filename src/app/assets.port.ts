/**
 * Files shipped with TasksGodzilla itself (prompt templates, JSON Schemas, starter assets), read
 * from the one package root the composition root resolves. Paths are relative to that root, with
 * `/` separators; this content is ours, never an agent's or a repository's.
 */
export interface Assets {
  /** The UTF-8 text of packaged file `path`; throws when it is missing. */
  readText(path: string): string
  /** The permission bits (`mode & 0o777`) of packaged file `path`, or undefined when it is missing. */
  modeOf(path: string): number | undefined
  /** Names of the entries directly in packaged folder `path`; none when it is missing. */
  list(path: string): string[]
  /** The absolute path of packaged file `path`, for a tool that must be handed a file. */
  absolutePath(path: string): string
}
