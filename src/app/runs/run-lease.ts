import { AppError } from '../../domain/app-error.js'
import type { StepStatus } from '../../domain/statuses.js'
import type { StepRun } from '../../domain/step-run.js'
import type { Repositories } from '../ports.js'
import type { RunLease } from './run-lease.port.js'

/** A take refused: the step whose name the worktree is held in, and what is being done there. */
export interface LeaseRefusal {
  readonly acquired: false
  readonly holder: StepRun
  /** For messages: "executing", "under QA"… */
  readonly activity: string
}

export type LeaseOutcome = { readonly acquired: true } | LeaseRefusal

type LeaseRepos = Pick<Repositories, 'leases' | 'jobs'>

/** A step parked on its engine's quota keeps the worktree: its work there is not finished. */
const HOLDING: readonly StepStatus[] = ['running', 'waiting_quota']

/**
 * Whether the stored holder still has the worktree. A step in `needs_qa` does while the lease's
 * job is running: its QA agent is reading the worktree, in a full QA job (which took the lease)
 * or inline at the end of its execution job. A queued or ended job holds nothing.
 */
const stillHolds = async (tx: LeaseRepos, holder: StepRun, lease: RunLease): Promise<boolean> => {
  if (lease.heldFor === undefined && HOLDING.includes(holder.status)) return true
  if (lease.heldFor === undefined && holder.status !== 'needs_qa') return false
  return (await tx.jobs.findById(lease.jobId))?.status === 'started'
}

/**
 * A job taking its lease again (a retry of it), or a step taking its own (a restart, its QA),
 * need not ask whether the holder is still at work: it is the holder.
 */
const isOwnRetake = (stored: RunLease, want: RunLease): boolean =>
  stored.jobId === want.jobId ||
  (stored.stepRunId === want.stepRunId && stored.heldFor === undefined && want.heldFor === undefined)

/**
 * Takes the run's worktree for `want.stepRunId` (W-39: one agent per worktree). Call in the
 * transaction that moves the step to `running`, or before a full QA reads the worktree. A stored
 * holder whose step is no longer `running` or `waiting_quota`, or judged in `needs_qa`, has
 * released the lease, whatever ended it (executed, failed, blocked, cancelled, or failed for
 * good after its job's lease expired); a holder that is still at work refuses the lease. The swap
 * is a compare-and-set on the take that was read (its version, not only its step: a failed step
 * started again keeps its step id), so of two concurrent takes exactly one wins, and the loser
 * re-reads the winner in a fresh statement (read committed) and is refused.
 */
export const acquireRunLease = async (tx: LeaseRepos, want: RunLease): Promise<LeaseOutcome> => {
  for (let tries = 0; tries < 3; tries += 1) {
    const current = await tx.leases.findWithHolder(want.protocolRunId)
    if (current && !isOwnRetake(current.lease, want)) {
      const { holder, lease } = current
      if (holder && (await stillHolds(tx, holder, lease)))
        return { acquired: false, holder, activity: activityOf(holder, lease) }
    }
    if (await tx.leases.swap(want, current?.lease)) return { acquired: true }
  }
  throw new AppError('ORC_STATE_CHANGED', `Run ${want.protocolRunId} changed concurrently; try again`)
}

/** Who is at work in the run's worktree, without taking it; undefined when it is free. */
export const worktreeHolder = async (
  tx: LeaseRepos,
  protocolRunId: number,
): Promise<LeaseRefusal | undefined> => {
  const current = await tx.leases.findWithHolder(protocolRunId)
  if (!current?.holder || !(await stillHolds(tx, current.holder, current.lease))) return undefined
  return { acquired: false, holder: current.holder, activity: activityOf(current.holder, current.lease) }
}

/** What the holder of a worktree is doing there, for messages. */
const activityOf = (holder: StepRun, lease: RunLease): string => {
  if (lease.heldFor === 'base_sync') return 'having its branch synced with the base'
  if (lease.heldFor === 'open_pr') return 'having its pull request opened'
  return holder.status === 'needs_qa'
    ? 'under QA'
    : holder.status === 'waiting_quota'
      ? 'parked'
      : 'executing'
}

/** As acquireRunLease for a user's start: a held worktree is a 409 naming the running step. */
export const holdRunLeaseOrRefuse = async (tx: LeaseRepos, want: RunLease): Promise<void> => {
  const outcome = await acquireRunLease(tx, want)
  if (outcome.acquired) return
  const { holder, activity } = outcome
  throw new AppError(
    'ORC_RUN_BUSY',
    `Protocol run ${want.protocolRunId} is busy: step ${holder.id} (${holder.stepName}) is ${activity} ` +
      "in its worktree; a run's worktree takes one agent at a time, so start this one when it has finished",
    { running_step_id: holder.id },
  )
}
