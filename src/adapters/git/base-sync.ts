import { AppError } from '../../domain/app-error.js'
import { assertBranchName } from '../../domain/git-refs.js'
import type { BaseSync } from '../../app/protocol-merge/base-sync.port.js'
import { GIT_NETWORK_TIMEOUT_MS } from './git.runner.js'
import { worktreeTools, type WorktreeTools } from './worktree.manager.js'

/** Fallback identity for the commits a rebase rewrites, when none is configured. */
const IDENTITY = ['-c', 'user.name=TasksGodzilla', '-c', 'user.email=tasksgodzilla@localhost']

/** The BaseSync over the `git` CLI (hooks off, as every server-side git call). */
export const createBaseSync = (options: { readonly allowLocalRepos: boolean }): BaseSync => {
  const tools = (signal: AbortSignal) => worktreeTools(signal, options.allowLocalRepos)
  return {
    async rebaseOntoBase(dir, baseBranch, signal) {
      assertBranchName(baseBranch)
      const t = tools(signal)
      if ((await t.git(['status', '--porcelain', '--untracked-files=no'], dir)).trim() !== '')
        throw new AppError('ORC_GIT_FAILED', 'The worktree has uncommitted changes; not rebasing it')
      const base = await fetchBase(t, dir, baseBranch)
      const baseSha = (await t.git(['rev-parse', base], dir)).trim()
      if (await t.probe(['merge-base', '--is-ancestor', base, 'HEAD'], dir))
        return { kind: 'up_to_date', baseSha }
      const previousHead = (await t.git(['rev-parse', 'HEAD'], dir)).trim()
      if (await t.probe([...IDENTITY, 'rebase', '--no-autosquash', base], dir)) {
        return {
          kind: 'rebased',
          baseSha,
          previousHead,
          headSha: (await t.git(['rev-parse', 'HEAD'], dir)).trim(),
        }
      }
      const files = (await t.git(['diff', '--name-only', '--diff-filter=U'], dir)).split('\n').filter(Boolean)
      await t.probe(['rebase', '--abort'], dir)
      if (files.length === 0) throw new AppError('ORC_GIT_FAILED', `Rebasing onto ${baseBranch} failed`)
      return { kind: 'conflict', baseSha, files }
    },
    async remoteHead(dir, branch, signal) {
      assertBranchName(branch)
      const t = tools(signal)
      const fetched = await t.probe(
        ['fetch', '--no-tags', '--', 'origin', `+refs/heads/${branch}:refs/remotes/origin/${branch}`],
        dir,
      )
      if (!fetched) return null
      return (await t.git(['rev-parse', `refs/remotes/origin/${branch}`], dir)).trim()
    },
    contains: (dir, sha, signal) =>
      /^[0-9a-f]{40,64}$/.test(sha)
        ? tools(signal).probe(['merge-base', '--is-ancestor', sha, 'HEAD'], dir)
        : Promise.resolve(false),
    async pushWithLease(dir, branch, expected, signal) {
      assertBranchName(branch)
      if (!/^[0-9a-f]{40,64}$/.test(expected))
        throw new AppError('ORC_GIT_FAILED', 'A lease needs the full SHA the remote branch had')
      const ref = `refs/heads/${branch}`
      await tools(signal).git(
        ['push', `--force-with-lease=${ref}:${expected}`, 'origin', `${ref}:${ref}`],
        dir,
        {
          timeoutMs: GIT_NETWORK_TIMEOUT_MS,
        },
      )
    },
  }
}

/** `origin/<base>` freshly fetched, or the local base in a checkout without a remote. */
const fetchBase = async (t: WorktreeTools, dir: string, baseBranch: string): Promise<string> => {
  if (!(await t.probe(['remote', 'get-url', 'origin'], dir))) return `refs/heads/${baseBranch}`
  await t.git(
    ['fetch', '--no-tags', '--', 'origin', `+refs/heads/${baseBranch}:refs/remotes/origin/${baseBranch}`],
    dir,
    { timeoutMs: GIT_NETWORK_TIMEOUT_MS },
  )
  return `refs/remotes/origin/${baseBranch}`
}
