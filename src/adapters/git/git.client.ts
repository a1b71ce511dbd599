import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { AppError } from '../../domain/app-error.js'
import { assertBranchName } from '../../domain/git-refs.js'
import { parseGitUrl, redactGitUrl } from '../../domain/git-url.js'
import type { GitClient, RepoSource } from '../../app/git.port.js'
import { DEFAULT_COMMIT_MAX_FILE_BYTES, stageChanges } from './commit-staging.js'
import { createCommitWriter, type CommitIdentityPolicy } from './commit-writer.js'
import { GIT_CLONE_TIMEOUT_MS, GIT_NETWORK_TIMEOUT_MS, gitOutputIfSucceeds } from './git.runner.js'
import { guardRemoteHost } from './remote-guard.js'
import { headSubjectFromFiles } from './head-subject.js'
import { locateRepo, type RepoPolicy } from './repo.locator.js'
import { ensureWorktree, findNextProtocolNumber, worktreePathFor, worktreeTools } from './worktree.manager.js'

export interface GitClientOptions extends RepoPolicy, CommitIdentityPolicy {
  /** `TASKSGODZILLA_MAX_COMMIT_FILE_BYTES`: larger files stay out of commits. */
  readonly commitMaxFileBytes?: number
}

/** The GitClient over the `git` CLI. */
export const createGitClient = (policy: GitClientOptions): GitClient => {
  const allowFile = policy.allowLocalRepos
  const commitMaxFileBytes = policy.commitMaxFileBytes ?? DEFAULT_COMMIT_MAX_FILE_BYTES
  const tools = (signal: AbortSignal) => worktreeTools(signal, allowFile)
  const commit = createCommitWriter(policy)
  return {
    locateRepo: (source) => locateRepo(source, policy),
    ensureRepo: (source, options, signal) => ensureRepo(source, options.clone, policy, signal),
    async checkBranchName(name, signal) {
      assertBranchName(name)
      if (!(await tools(signal).probe(['check-ref-format', '--branch', name], process.cwd())))
        throw new AppError('ORC_BRANCH_NAME_INVALID', `Branch name ${JSON.stringify(name)} is invalid`)
    },
    ensureWorktree: (request, signal) => ensureWorktree(request, tools(signal)),
    nextProtocolNumber: (repoPath, signal) => findNextProtocolNumber(repoPath, tools(signal)),
    async commitAll(dir, message, signal) {
      const t = tools(signal)
      const { leftOut, changed, surelyStaged } = await stageChanges(dir, t.git, commitMaxFileBytes)
      if (!changed) return { sha: null, leftOut }
      if (!surelyStaged && (await t.git(['diff', '--cached', '--name-only'], dir)).trim() === '')
        return { sha: null, leftOut }
      return { sha: await commit(dir, message, t), leftOut }
    },
    async push(dir, branch, signal) {
      assertBranchName(branch)
      const ref = `refs/heads/${branch}`
      await tools(signal).git(['push', '--set-upstream', 'origin', `${ref}:${ref}`], dir, {
        timeoutMs: GIT_NETWORK_TIMEOUT_MS,
      })
    },
    async listRemoteHeads(dir, signal) {
      const out = await tools(signal).git(['ls-remote', '--heads', 'origin'], dir, {
        timeoutMs: GIT_NETWORK_TIMEOUT_MS,
      })
      return out
        .split('\n')
        .map((line) => line.split('\t')[1] ?? '')
        .filter((ref) => ref.startsWith('refs/heads/'))
        .map((ref) => ref.slice('refs/heads/'.length))
    },
    async remoteBranchExists(dir, branch, signal) {
      assertBranchName(branch)
      return tools(signal).probe(
        ['ls-remote', '--exit-code', '--heads', 'origin', `refs/heads/${branch}`],
        dir,
      )
    },
    async deleteRemoteBranch(dir, branch, signal) {
      assertBranchName(branch)
      await tools(signal).git(['push', 'origin', `:refs/heads/${branch}`], dir, {
        timeoutMs: GIT_NETWORK_TIMEOUT_MS,
      })
    },
    headSha: async (dir, signal) => (await tools(signal).git(['rev-parse', 'HEAD'], dir)).trim(),
    statusPorcelain: (dir, signal) => tools(signal).git(['status', '--porcelain'], dir),
    async lastCommitSubject(dir, signal) {
      const fromFiles = headSubjectFromFiles(dir)
      if (fromFiles !== undefined) return fromFiles.trim()
      // One process: `log` fails where there is no commit yet (or no repository), which reads as none.
      const subject = await gitOutputIfSucceeds(['log', '-1', '--pretty=format:%s'], {
        cwd: dir,
        signal,
        allowFileProtocol: allowFile,
      })
      return subject === undefined ? null : subject.trim()
    },
    hasOrigin: (dir, signal) => tools(signal).probe(['remote', 'get-url', 'origin'], dir),
    async removeWorktree(repoPath, protocolName, signal) {
      const path = worktreePathFor(repoPath, protocolName)
      const { git } = tools(signal)
      if (existsSync(path)) await git(['worktree', 'remove', '--force', path], repoPath)
      await git(['worktree', 'prune'], repoPath)
    },
  }
}

/**
 * Returns the checkout, cloning it first when missing and allowed. Clones land in a temporary
 * sibling and are renamed into place, so two workers cloning at once never see a half clone.
 */
const ensureRepo = async (
  source: RepoSource,
  clone: boolean,
  policy: RepoPolicy,
  signal: AbortSignal,
): Promise<string> => {
  const location = locateRepo(source, policy)
  if (location.exists) return location.path
  if (!clone)
    throw new AppError('ORC_REPO_NOT_PRESENT', `Repository not present locally at ${location.path}`, {
      path: location.path,
    })
  const parsed = parseGitUrl(source.gitUrl, policy)
  const url =
    parsed.kind === 'local' && !source.gitUrl.startsWith('file://') ? parsed.path : source.gitUrl.trim()
  const pinned = policy.allowPrivateHosts ? [] : await guardRemoteHost(source.gitUrl, policy.allowLocalRepos)
  mkdirSync(dirname(location.path), { recursive: true })
  const temp = `${location.path}.clone-${randomBytes(4).toString('hex')}`
  try {
    await worktreeTools(signal, policy.allowLocalRepos).git(
      [...pinned, 'clone', '--no-hardlinks', '--', url, temp],
      dirname(temp),
      { timeoutMs: policy.cloneTimeoutMs ?? GIT_CLONE_TIMEOUT_MS },
    )
    renameSync(temp, location.path)
  } catch (error) {
    rmSync(temp, { recursive: true, force: true })
    if (locateRepo(source, policy).exists) return location.path
    if (error instanceof AppError) throw error
    throw new AppError('ORC_GIT_FAILED', `Cloning ${redactGitUrl(source.gitUrl)} failed`)
  }
  return location.path
}
