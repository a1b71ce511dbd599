/**
 * Git as the app needs it. Every method that runs git takes an AbortSignal, passes argv arrays
 * (never a shell), validates user-derived names before git sees them, and fails with
 * ORC_GIT_FAILED whose message never carries credentials from a URL.
 */

/** Where a project's code comes from, as stored on the project. */
export interface RepoSource {
  readonly gitUrl: string
  /** A checkout the project was registered with, or onboarding recorded; honoured first. */
  readonly localPath: string | null
}

/** Where a project's checkout is (or would be); resolving it creates nothing. */
export interface RepoLocation {
  readonly path: string
  readonly exists: boolean
  /** Why this path: the stored local path, the git URL itself being a checkout, or the clone target. */
  readonly origin: 'local_path' | 'git_url_path' | 'projects_root'
}

/** A protocol's worktree, on branch `<protocol_name>`. */
export interface WorktreeInfo {
  readonly path: string
  readonly branch: string
  /** `<worktree>/.protocols/<protocol_name>`. */
  readonly protocolRoot: string
  /** True when this call created (or recreated) it. */
  readonly created: boolean
}

export interface EnsureWorktreeRequest {
  readonly repoPath: string
  readonly protocolName: string
  readonly baseBranch: string
}

/** A file a commit left out, and why (`environment file`, `larger than N bytes`...). */
export interface LeftOutFile {
  readonly path: string
  readonly reason: string
}

export interface CommitOutcome {
  readonly sha: string | null
  readonly leftOut: readonly LeftOutFile[]
}

export interface GitClient {
  /**
   * Where the project's checkout is: stored `local_path`, else a local `git_url` that is a work
   * tree, else `<projects root>/<host>/<full path>`. Read-only: creates no directory, clones nothing.
   * Throws ORC_GIT_URL_REFUSED for URLs we never hand to git.
   */
  locateRepo(source: RepoSource): RepoLocation
  /**
   * The checkout, cloned first when missing (jobs only, never inside an HTTP request). Throws
   * ORC_REPO_NOT_PRESENT when it is missing and `clone` is false.
   */
  ensureRepo(source: RepoSource, options: { readonly clone: boolean }, signal: AbortSignal): Promise<string>
  /** `git check-ref-format --branch`; throws ORC_BRANCH_NAME_INVALID. Does not check the branch exists. */
  checkBranchName(name: string, signal: AbortSignal): Promise<void>
  /**
   * The protocol's worktree at `<repo>/../worktrees/<protocol_name>`, created when missing: on the
   * existing local or remote branch when there is one, else a new branch from `origin/<base>` (or
   * the local base without a remote). Reuses an existing worktree of this repository as it is.
   */
  ensureWorktree(request: EnsureWorktreeRequest, signal: AbortSignal): Promise<WorktreeInfo>
  /** Next free `NNNN`: one more than any in `.protocols/`, the worktrees folder and local branches. */
  nextProtocolNumber(repoPath: string, signal: AbortSignal): Promise<number>
  /**
   * Stages every change (`.gitignore` respected) except deny-listed names (`.env*`, keys, SSH
   * keys, credentials files) and files over the size cap, and commits: the new SHA (null when
   * nothing was staged) and what was left out, by name only. Runs no commit hook.
   */
  commitAll(dir: string, message: string, signal: AbortSignal): Promise<CommitOutcome>
  /** `git push --set-upstream origin <branch>`. Leaves forced pushes out. */
  push(dir: string, branch: string, signal: AbortSignal): Promise<void>
  /** Branch names under refs/heads/ on `origin` (`git ls-remote --heads`). */
  listRemoteHeads(dir: string, signal: AbortSignal): Promise<string[]>
  /** Whether `origin` has the branch. */
  remoteBranchExists(dir: string, branch: string, signal: AbortSignal): Promise<boolean>
  /** `git push origin --delete <branch>`; refuses nothing itself (base-branch guards are the caller's). */
  deleteRemoteBranch(dir: string, branch: string, signal: AbortSignal): Promise<void>
  /** SHA of HEAD. */
  headSha(dir: string, signal: AbortSignal): Promise<string>
  /** `git status --porcelain` output. */
  statusPorcelain(dir: string, signal: AbortSignal): Promise<string>
  /** Subject of the last commit, or null when there is none. */
  lastCommitSubject(dir: string, signal: AbortSignal): Promise<string | null>
  /** Whether the checkout has an `origin` remote. */
  hasOrigin(dir: string, signal: AbortSignal): Promise<boolean>
  /**
   * Removes the protocol's worktree (`git worktree remove --force`, then prune); the branch stays.
   * Does nothing when the worktree is already gone.
   */
  removeWorktree(repoPath: string, protocolName: string, signal: AbortSignal): Promise<void>
}
