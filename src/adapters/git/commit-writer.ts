import { commonDirFromFiles, headShaFromFiles } from './git-dir-files.js'
import type { WorktreeTools } from './worktree.manager.js'

/** Identity used for commits when the repository and environment configure none. */
const FALLBACK_IDENTITY = ['-c', 'user.name=TasksGodzilla', '-c', 'user.email=tasksgodzilla@localhost']

/** Who the server's commits are by, and what the environment already says about it. */
export interface CommitIdentityPolicy {
  /** TASKSGODZILLA_GIT_USER and TASKSGODZILLA_GIT_EMAIL (both set): every commit the server makes uses it. */
  readonly identity?: { readonly name: string; readonly email: string }
  /** GIT_AUTHOR_NAME is set in the environment git is given, so git needs no fallback identity. */
  readonly authorInEnvironment?: boolean
}

/**
 * A commit also starts `git maintenance run --auto` (a second process, its own tens of ms under
 * load) to see whether the object store wants housekeeping. A repository's first commit in this
 * process and every this-many-th after it keep that check; the others skip it
 * (`maintenance.auto=false`). A step adds a handful of objects and git's own threshold is
 * thousands, so housekeeping is at most this many commits late.
 */
export const AUTO_MAINTENANCE_EVERY_COMMITS = 20

/** Commits what is staged in `dir` (no hook runs) and returns the new commit's SHA. */
export type CommitWriter = (dir: string, message: string, tools: WorktreeTools) => Promise<string>

/**
 * The identity rule: the configured identity wins over the repository's; else the repository's
 * (or the environment's); else ours, when git has no `user.name`. Asking git for `user.name`
 * before each commit cost a process per commit, so a commit is first tried with
 * `user.useConfigOnly` (git refuses to guess a missing name or email instead of committing):
 * where it succeeds the identity came from configuration, exactly what the question would have
 * allowed. Where it is refused (nothing is written then), the question is asked and the commit
 * made as before; such a repository (by common git directory) is asked first from then on in
 * this process, so an unconfigured one costs what it did. Nothing is remembered that could go
 * stale: a name configured later is used by the next commit either way.
 */
export const createCommitWriter = (policy: CommitIdentityPolicy): CommitWriter => {
  const askFirst = new Set<string>()
  const commits = new Map<string, number>()
  return async (dir, message, tools) => {
    const repo = commonDirFromFiles(dir) ?? dir
    const count = commits.get(repo) ?? 0
    commits.set(repo, count + 1)
    const housekeeping = count % AUTO_MAINTENANCE_EVERY_COMMITS === 0 ? [] : ['-c', 'maintenance.auto=false']
    const commit = [...housekeeping, 'commit', '--no-verify', '-m', message]
    let out: string | undefined
    if (policy.identity) {
      const { name, email } = policy.identity
      out = await tools.git(['-c', `user.name=${name}`, '-c', `user.email=${email}`, ...commit], dir)
    } else if (policy.authorInEnvironment) out = await tools.git(commit, dir)
    else {
      if (!askFirst.has(repo)) out = await tools.output(['-c', 'user.useConfigOnly=true', ...commit], dir)
      if (out === undefined) {
        askFirst.add(repo)
        const named = await tools.probe(['config', 'user.name'], dir)
        out = await tools.git([...(named ? [] : FALLBACK_IDENTITY), ...commit], dir)
      }
    }
    return committedSha(out, dir) ?? (await tools.git(['rev-parse', 'HEAD'], dir)).trim()
  }
}

/**
 * The new commit's SHA without another git process: HEAD's loose ref (a commit writes it), taken
 * only when it extends the abbreviated SHA `git commit` printed (`[<branch> <sha>] <subject>`).
 * Undefined when either is missing or they disagree.
 */
const committedSha = (out: string, dir: string): string | undefined => {
  const printed = /^\[(?:detached HEAD|\S+)(?: \(root-commit\))? ([0-9a-f]{4,64})\] /.exec(out)?.[1]
  const sha = printed === undefined ? undefined : headShaFromFiles(dir)
  return sha?.startsWith(printed!) ? sha : undefined
}
