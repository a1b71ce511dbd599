import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { assertBranchName, nextProtocolNumber, parseProtocolName } from '../../domain/git-refs.js'
import type { EnsureWorktreeRequest, WorktreeInfo } from '../../app/git.port.js'
import { gitSucceeds, runGit, type GitRunOptions } from './git.runner.js'

type Git = (args: readonly string[], cwd: string, extra?: Partial<GitRunOptions>) => Promise<string>
type Probe = (args: readonly string[], cwd: string) => Promise<boolean>

export interface WorktreeTools {
  readonly git: Git
  readonly probe: Probe
}

/** Binds runGit/gitSucceeds to one signal and local-repo policy. */
export const worktreeTools = (signal: AbortSignal, allowFileProtocol: boolean): WorktreeTools => ({
  git: async (args, cwd, extra) => (await runGit(args, { cwd, signal, allowFileProtocol, ...extra })).stdout,
  probe: (args, cwd) => gitSucceeds(args, { cwd, signal, allowFileProtocol }),
})

/** `<repo>/../worktrees/<protocol_name>`: beside the checkout, as the original laid them out. */
export const worktreePathFor = (repoPath: string, protocolName: string): string =>
  join(dirname(resolve(repoPath)), 'worktrees', protocolName)

/**
 * Creates or reuses the protocol's worktree. A worker that lacks it recreates it from the branch
 * that already exists (locally or on origin), so any worker can run any job of the run.
 */
export const ensureWorktree = async (
  request: EnsureWorktreeRequest,
  tools: WorktreeTools,
): Promise<WorktreeInfo> => {
  const { repoPath, protocolName, baseBranch } = request
  parseProtocolName(protocolName)
  assertBranchName(baseBranch, 'Base branch')
  const path = worktreePathFor(repoPath, protocolName)
  const info = { path, branch: protocolName, protocolRoot: join(path, '.protocols', protocolName) }
  if (existsSync(path)) {
    if (await belongsTo(path, repoPath, tools)) return { ...info, created: false }
    throw new AppError('ORC_GIT_FAILED', `Worktree path ${path} exists but is not a worktree of ${repoPath}`)
  }
  await tools.git(['worktree', 'prune'], repoPath)
  const hasOrigin = await tools.probe(['remote', 'get-url', 'origin'], repoPath)
  if (hasOrigin) await fetchBranches(repoPath, [baseBranch, protocolName], tools)
  await tools.git(
    [
      'worktree',
      'add',
      ...(await startPoint(repoPath, protocolName, baseBranch, hasOrigin, tools)).args(path),
    ],
    repoPath,
  )
  return { ...info, created: true }
}

const startPoint = async (
  repo: string,
  branch: string,
  base: string,
  hasOrigin: boolean,
  tools: WorktreeTools,
): Promise<{ args: (path: string) => string[] }> => {
  if (await tools.probe(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], repo))
    return { args: (path) => [path, branch] }
  if (
    hasOrigin &&
    (await tools.probe(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`], repo))
  )
    return { args: (path) => ['--track', '-b', branch, path, `origin/${branch}`] }
  const from = hasOrigin ? `origin/${base}` : base
  if (!(await tools.probe(['rev-parse', '--verify', '--quiet', `${from}^{commit}`], repo)))
    throw new AppError('ORC_GIT_FAILED', `Base branch ${JSON.stringify(base)} was not found in ${repo}`)
  return { args: (path) => ['--no-track', '-b', branch, path, from] }
}

/** Refreshes origin's copies of the branches; a branch origin lacks is simply skipped. */
const fetchBranches = async (
  repo: string,
  branches: readonly string[],
  tools: WorktreeTools,
): Promise<void> => {
  for (const branch of branches)
    await tools.probe(
      ['fetch', '--no-tags', '--', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
      repo,
    )
}

const belongsTo = async (path: string, repoPath: string, tools: WorktreeTools): Promise<boolean> => {
  const fromFiles = [commonDirFromFiles(path), commonDirFromFiles(repoPath)]
  if (fromFiles[0] !== undefined && fromFiles[1] !== undefined) return samePath(fromFiles[0], fromFiles[1])
  try {
    const common = (await tools.git(['rev-parse', '--git-common-dir'], path)).trim()
    const expected = (await tools.git(['rev-parse', '--git-common-dir'], repoPath)).trim()
    return samePath(resolve(path, common), resolve(repoPath, expected))
  } catch (error) {
    if (error instanceof AppError) return false
    throw error
  }
}

const samePath = (a: string, b: string): boolean => {
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}

/** A `.git` file or `commondir` is a line; anything larger is not the layout git writes. */
const MAX_POINTER_BYTES = 4096

/**
 * The common git directory of `dir` as git resolves it for the two layouts it writes itself: a
 * checkout's `.git` folder, or a linked worktree's `.git` file (`gitdir: <dir>`) whose gitdir
 * holds `commondir`. Undefined for anything else (no `.git` here, a bare or unusual layout), for
 * `git rev-parse` to answer. Every job that reuses its run's worktree checks it, and two git
 * processes per check were a fifth of a step's git time. Only regular files are read (the
 * worktree is the agent's: a FIFO or a link named `.git` falls back to git).
 */
export const commonDirFromFiles = (dir: string): string | undefined => {
  const dotGit = join(dir, '.git')
  const stats = lstatOrUndefined(dotGit)
  if (stats?.isDirectory()) return lstatOrUndefined(join(dotGit, 'commondir')) ? undefined : dotGit
  const pointer = smallFile(dotGit)
  const gitDir = pointer === undefined ? undefined : /^gitdir: (.+)$/.exec(pointer.trim())?.[1]
  if (gitDir === undefined) return undefined
  const absoluteGitDir = resolve(dir, gitDir)
  const common = smallFile(join(absoluteGitDir, 'commondir'))
  return common === undefined || common.trim() === '' ? undefined : resolve(absoluteGitDir, common.trim())
}

const lstatOrUndefined = (path: string) => {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

const smallFile = (path: string): string | undefined => {
  const stats = lstatOrUndefined(path)
  if (!stats?.isFile() || stats.size > MAX_POINTER_BYTES) return undefined
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Next `NNNN`: past every number in `.protocols/`, the worktrees folder and branch names. */
export const findNextProtocolNumber = async (repoPath: string, tools: WorktreeTools): Promise<number> => {
  const names = [
    ...listDir(join(repoPath, '.protocols')),
    ...listDir(join(dirname(resolve(repoPath)), 'worktrees')),
  ]
  const refs = await tools.git(
    ['for-each-ref', '--format=%(refname:lstrip=2)', 'refs/heads', 'refs/remotes'],
    repoPath,
  )
  for (const ref of refs.split('\n')) names.push(ref.replace(/^origin\//, ''))
  return nextProtocolNumber(names)
}

const listDir = (path: string): string[] => {
  try {
    return readdirSync(path)
  } catch {
    return []
  }
}
