import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'

/**
 * Answers git would give, read from the files git writes, for the layouts git writes itself (a
 * checkout's `.git` folder, a linked worktree's `.git` file). Each reader answers undefined for
 * anything else (bare or unusual layouts, packed or reftable refs, a FIFO or a link where a file
 * should be), and the caller asks git then. Every git process costs tens of milliseconds on a
 * loaded machine, and a step ran several just to learn what these files say.
 */

/** A `.git` file, `commondir`, `HEAD` or loose ref is a line; anything larger is not what git writes. */
const MAX_POINTER_BYTES = 4096

/** A full SHA-1 or SHA-256 object name. */
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

/**
 * The git directory of `dir`: its `.git` folder, or the folder a linked worktree's `.git` file
 * points to (`gitdir: <dir>`).
 */
export const gitDirFromFiles = (dir: string): string | undefined => {
  const dotGit = join(dir, '.git')
  if (lstatOrUndefined(dotGit)?.isDirectory()) return dotGit
  const pointer = smallFile(dotGit)
  const gitDir = pointer === undefined ? undefined : /^gitdir: (.+)$/.exec(pointer.trim())?.[1]
  return gitDir === undefined ? undefined : resolve(dir, gitDir)
}

/**
 * The common git directory of `dir` as git resolves it: the checkout's `.git` folder, or the
 * `commondir` of a linked worktree's git directory. Every job that reuses its run's worktree
 * checks it, and two git processes per check were a fifth of a step's git time.
 */
export const commonDirFromFiles = (dir: string): string | undefined => {
  const dotGit = join(dir, '.git')
  if (lstatOrUndefined(dotGit)?.isDirectory())
    return lstatOrUndefined(join(dotGit, 'commondir')) ? undefined : dotGit
  const gitDir = gitDirFromFiles(dir)
  if (gitDir === undefined) return undefined
  const common = smallFile(join(gitDir, 'commondir'))
  return common === undefined || common.trim() === '' ? undefined : resolve(gitDir, common.trim())
}

/**
 * The SHA HEAD names: a detached HEAD's own, or the loose ref of the branch it points to (a
 * commit writes the ref loose). Undefined for an unborn branch, a packed or reftable ref, a
 * symbolic ref outside `refs/heads/`, or anything unusual.
 */
export const headShaFromFiles = (dir: string): string | undefined => {
  const gitDir = gitDirFromFiles(dir)
  const common = commonDirFromFiles(dir)
  const head = gitDir === undefined ? undefined : smallFile(join(gitDir, 'HEAD'))?.trim()
  if (head === undefined || common === undefined) return undefined
  if (FULL_SHA.test(head)) return head
  const ref = /^ref: (refs\/heads\/\S+)$/.exec(head)?.[1]
  if (ref === undefined || ref.split('/').some((part) => part === '..' || part === '.' || part === ''))
    return undefined
  const sha = smallFile(join(common, ...ref.split('/')))?.trim()
  return sha !== undefined && FULL_SHA.test(sha) ? sha : undefined
}

/**
 * Whether `git worktree prune` would find nothing to do: the common directory's `worktrees/` is
 * absent, or each of its entries names in its `gitdir` file an absolute path that exists, no two
 * the same. Any doubt (an empty folder, an entry without a readable `gitdir`, a locked or odd
 * entry) answers false, and prune runs as before.
 */
export const nothingToPrune = (commonDir: string): boolean => {
  const admin = join(commonDir, 'worktrees')
  const stats = lstatOrUndefined(admin)
  if (stats === undefined) return true
  if (!stats.isDirectory()) return false
  let names: string[]
  try {
    names = readdirSync(admin)
  } catch {
    return false
  }
  const paths = names.map((name) => smallFile(join(admin, name, 'gitdir'))?.trim())
  const live = (path: string | undefined): path is string =>
    path !== undefined && isAbsolute(path) && existsSync(path)
  return paths.length > 0 && paths.every(live) && new Set(paths).size === paths.length
}

const lstatOrUndefined = (path: string) => {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** The bytes of a regular file (a link, FIFO or folder is not one) no larger than `maxBytes`. */
export const readBoundedFile = (path: string, maxBytes: number): Buffer | undefined => {
  const stats = lstatOrUndefined(path)
  if (!stats?.isFile() || stats.size > maxBytes) return undefined
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

const smallFile = (path: string): string | undefined =>
  readBoundedFile(path, MAX_POINTER_BYTES)?.toString('utf8')
