import type { JsonObject } from '../../domain/json.js'
import { mergeConflictState } from '../../domain/merge-conflict.js'
import { canProtocol } from '../../domain/transitions.js'
import { appendRunEvent } from '../api-events.js'
import type { ChangeOrigin } from '../context.js'
import type { WorktreeInfo } from '../git.port.js'
import type { JobPolicy } from '../queue-runtime/enqueue.js'
import type { ProtocolJobDeps } from '../protocol/protocol-job-deps.js'
import type { RunAndProject } from '../protocol/run-workspace.js'
import type { Repositories, UnitOfWork } from '../ports.js'
import { blockRunForHuman } from '../protocol/block-run.js'
import { lastExecutedStep } from '../../domain/step-run.js'
import { reopenForFollowup } from '../reviews/reopen-for-followup.js'
import type { BaseSync, BaseSyncOutcome } from './base-sync.port.js'

export interface SyncDeps {
  readonly uow: UnitOfWork
  readonly baseSync: BaseSync
  readonly jobPolicy: JobPolicy
  /** Conflict steps dispatched per run before the next conflict blocks it (needs_human). */
  readonly maxConflictRounds: number
}

/** The sync deps out of the protocol jobs' deps. */
export const syncDepsOf = (deps: Pick<ProtocolJobDeps, 'uow' | 'baseSync' | 'config'>): SyncDeps => ({
  uow: deps.uow,
  baseSync: deps.baseSync,
  jobPolicy: deps.config.jobs,
  maxConflictRounds: deps.config.mergeConflicts.maxRounds,
})

/**
 * in_sync and rebased: the branch merges cleanly now; the others stop what the caller was doing.
 * `conflict_paused`: the run was paused meanwhile, so nothing was dispatched (the table lets only
 * resume, fail or cancel leave `paused`); `blocked`: the conflict rounds reached their cap.
 */
export type SyncResult =
  'in_sync' | 'rebased' | 'conflict' | 'conflict_paused' | 'blocked' | 'diverged' | 'push_refused'

/**
 * Keeps a run's branch mergeable into its moved base, in its worktree (no transaction is open
 * while git runs). A clean rebase is pushed — when the branch was pushed before, with a lease on
 * the SHA origin had, and only when that SHA is in our history (a commit someone else pushed is
 * never dropped: `diverged`). A conflict aborts the rebase and re-opens the step executed last
 * with the conflicting files; the agent merges the base in, and its push runs CI again.
 */
export const syncRunWithBase = async (
  deps: SyncDeps,
  loaded: RunAndProject,
  worktree: Pick<WorktreeInfo, 'path' | 'branch'>,
  signal: AbortSignal,
  ctx: ChangeOrigin,
): Promise<SyncResult> => {
  const { path, branch } = worktree
  const remote = await deps.baseSync.remoteHead(path, branch, signal)
  if (remote !== null && !(await deps.baseSync.contains(path, remote, signal))) {
    await note(deps, loaded, ctx, {
      type: 'branch_diverged',
      message: `origin/${branch} has commits this worktree lacks; not rebasing over them.`,
      metadata: { remote_sha: remote },
    })
    return 'diverged'
  }
  const outcome = await deps.baseSync.rebaseOntoBase(path, loaded.run.baseBranch, signal)
  if (outcome.kind === 'up_to_date') return 'in_sync'
  if (outcome.kind === 'conflict') return dispatchConflict(deps, loaded, outcome, ctx)
  if (remote !== null) {
    try {
      await deps.baseSync.pushWithLease(path, branch, remote, signal)
    } catch {
      const message = `Pushing the rebased ${branch} was refused (origin moved since ${remote.slice(0, 12)}).`
      await note(deps, loaded, ctx, { type: 'branch_rebase_push_refused', message })
      return 'push_refused'
    }
  }
  await deps.uow.run(async (tx) => {
    // CI results name the new head: the step that stood on the old one stands on it now.
    for (const step of await tx.steps.listByRun(loaded.run.id))
      if (step.headSha === outcome.previousHead) await tx.steps.update(step.id, { headSha: outcome.headSha })
    const metadata = {
      base_branch: loaded.run.baseBranch,
      base_sha: outcome.baseSha,
      previous_head: outcome.previousHead,
      head_sha: outcome.headSha,
      forced_with_lease: remote !== null,
    }
    const message = `Rebased ${branch} onto ${loaded.run.baseBranch}.`
    await appendRunEvent(tx, loaded.run, { type: 'branch_rebased', message, metadata }, ctx)
  })
  return 'rebased'
}

const dispatchConflict = async (
  deps: SyncDeps,
  { run }: RunAndProject,
  outcome: Extract<BaseSyncOutcome, { kind: 'conflict' }>,
  ctx: ChangeOrigin,
): Promise<SyncResult> =>
  deps.uow.run(async (tx): Promise<SyncResult> => {
    const fresh = (await tx.runs.findById(run.id)) ?? run
    const metadata: JsonObject = {
      base_branch: run.baseBranch,
      base_sha: outcome.baseSha,
      files: [...outcome.files],
    }
    const message = `${run.protocolName} no longer merges into ${run.baseBranch}: ${outcome.files.join(', ')}.`
    await appendRunEvent(tx, fresh, { type: 'merge_conflict_detected', message, metadata }, ctx)
    if (fresh.status === 'paused') return 'conflict_paused'
    const step = lastExecutedStep(await tx.steps.listByRun(run.id))
    if (!step || step.status === 'running') return 'conflict'
    if (fresh.status !== 'running' && !canProtocol(fresh.status, 'reopen')) return 'conflict'
    const rounds = await conflictRounds(tx, run.id, deps.maxConflictRounds)
    if (rounds >= deps.maxConflictRounds) {
      const limit = {
        type: 'merge_conflict_limit_reached',
        message: `Merge-conflict cap reached after ${rounds} round(s); a human must take over.`,
        metadata: { ...metadata, rounds },
      }
      await blockRunForHuman(tx, fresh, limit, ctx)
      return 'blocked'
    }
    const state = {
      merge_conflict: mergeConflictState(run.baseBranch, outcome.baseSha, outcome.files, step.headSha),
    }
    const reason = `a merge conflict with ${run.baseBranch}`
    const reopened = await reopenForFollowup(tx, { run: fresh, step, state, reason }, deps.jobPolicy, ctx)
    const dispatched = { ...metadata, job_id: reopened.job.id, round: rounds + 1 }
    const text = `Step ${step.stepName} dispatched to resolve the conflict.`
    await appendRunEvent(
      tx,
      reopened.run,
      { type: 'merge_conflict_step_dispatched', message: text, metadata: dispatched },
      ctx,
      step.id,
    )
    return 'conflict'
  })

/** Conflict steps dispatched so far for the run (its events are the counter), read up to the cap. */
const conflictRounds = async (tx: Pick<Repositories, 'events'>, runId: number, cap: number) =>
  cap === 0
    ? 0
    : (
        await tx.events.list({
          protocolRunId: runId,
          eventType: 'merge_conflict_step_dispatched',
          limit: cap,
        })
      ).length

const note = (
  deps: SyncDeps,
  { run }: RunAndProject,
  ctx: ChangeOrigin,
  event: { type: string; message: string; metadata?: JsonObject },
) => deps.uow.run((tx) => appendRunEvent(tx, run, event, ctx))
