import { existsSync, readdirSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { assertBranchName, nextProtocolNumber, parseProtocolName } from '../../domain/git-refs.js'
import type { EnsureWorktreeRequest, WorktreeInfo } from '../../app/git.port.js'
import { commonDirFromFiles, nothingToPrune } from './git-dir-files.js'
import { gitOutputIfSucceeds, gitSucceeds, runGit, type GitRunOptions } from './git.runner.js'
import { lookupRefs } from './ref-lookup.js'

type Git = (args: readonly string[], cwd: string, extra?: Partial<GitRunOptions>) => Promise<string>
type Probe = (args: readonly string[], cwd: string) => Promise<boolean>

export interface WorktreeTools {
  readonly git: Git
  readonly probe: Probe
  /** stdout, or undefined when git exits non-zero. */
  readonly output: (args: readonly string[], cwd: string) => Promise<string | undefined>
}

/** Binds runGit/gitSucceeds to one signal and local-repo policy. */
export const worktreeTools = (signal: AbortSignal, allowFileProtocol: boolean): WorktreeTools => ({
  git: async (args, cwd, extra) => (await runGit(args, { cwd, signal, allowFileProtocol, ...extra })).stdout,
  probe: (args, cwd) => gitSucceeds(args, { cwd, signal, allowFileProtocol }),
  output: (args, cwd) => gitOutputIfSucceeds(args, { cwd, signal, allowFileProtocol }),
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
  // Prune only when git would find something to prune: a stale entry can hold the path or branch.
  const common = commonDirFromFiles(repoPath)
  if (common === undefined || !nothingToPrune(common)) await tools.git(['worktree', 'prune'], repoPath)
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

/**
 * Where the worktree starts: the local branch, else origin's (tracked), else a new branch from
 * the base. The three rev-parse checks are answered by one ref listing where it can tell.
 */
const startPoint = async (
  repo: string,
  branch: string,
  base: string,
  hasOrigin: boolean,
  tools: WorktreeTools,
): Promise<{ args: (path: string) => string[] }> => {
  const local = `refs/heads/${branch}`
  const remote = `refs/remotes/origin/${branch}`
  const from = hasOrigin ? `origin/${base}` : base
  const refs = await lookupRefs(repo, hasOrigin ? [local, remote, from] : [local, from], tools)
  const verify = async (name: string, suffix: '' | '^{commit}'): Promise<boolean> => {
    const known = refs(name)
    if (known === undefined)
      return tools.probe(['rev-parse', '--verify', '--quiet', `${name}${suffix}`], repo)
    return suffix === '' ? known !== 'absent' : known === 'commit'
  }
  if (await verify(local, '')) return { args: (path) => [path, branch] }
  if (hasOrigin && (await verify(remote, '')))
    return { args: (path) => ['--track', '-b', branch, path, `origin/${branch}`] }
  if (!(await verify(from, '^{commit}')))
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
