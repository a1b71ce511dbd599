/** What bringing a run's branch up to date with its base did. */
export type BaseSyncOutcome =
  /** The base is already an ancestor of the branch: nothing to do. */
  | { readonly kind: 'up_to_date'; readonly baseSha: string }
  /** Rebased onto the base; `previousHead` is what the branch pointed at before. */
  | {
      readonly kind: 'rebased'
      readonly baseSha: string
      readonly previousHead: string
      readonly headSha: string
    }
  /** The rebase stopped on conflicts and was aborted: the worktree is as it was before. */
  | { readonly kind: 'conflict'; readonly baseSha: string; readonly files: readonly string[] }

/**
 * Keeps a run's branch mergeable into its base, in the run's worktree, through the `git` CLI.
 * Leaves out merging (the agent does that when a conflict needs judgement) and any push without a
 * lease.
 */
export interface BaseSync {
  /**
   * Fetches `origin/<base>` and rebases the worktree's branch onto it when the base is not
   * already an ancestor. On conflict: lists the conflicting files, runs `git rebase --abort`, and
   * reports them. Refuses (ORC_GIT_FAILED) a worktree with uncommitted changes.
   */
  rebaseOntoBase(dir: string, baseBranch: string, signal: AbortSignal): Promise<BaseSyncOutcome>
  /**
   * The SHA `origin` has for the branch, or null when it was never pushed (fetched first, so
   * the lease of a later push is what the remote really had).
   */
  remoteHead(dir: string, branch: string, signal: AbortSignal): Promise<string | null>
  /** Whether `sha` is part of the worktree's HEAD history (a remote branch we would not lose). */
  contains(dir: string, sha: string, signal: AbortSignal): Promise<boolean>
  /**
   * `git push --force-with-lease=refs/heads/<branch>:<expected> origin <branch>`: replaces the
   * remote branch only while it still points at `expected` (what we rebased from), so a commit
   * someone else pushed meanwhile is never overwritten; then the push fails (ORC_GIT_FAILED).
   */
  pushWithLease(dir: string, branch: string, expected: string, signal: AbortSignal): Promise<void>
}
