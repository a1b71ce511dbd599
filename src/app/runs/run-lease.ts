import { AppError } from '../../domain/app-error.js'
import type { StepStatus } from '../../domain/statuses.js'
import type { StepRun } from '../../domain/step-run.js'
import type { Repositories } from '../ports.js'
import type { LeaseWithHolder, RunLease } from './run-lease.port.js'

/** A take refused: the step whose name the worktree is held in, and what is being done there. */
export interface LeaseRefusal {
  readonly acquired: false
  readonly holder: StepRun
  /** For messages: "executing", "under QA"… */
  readonly activity: string
}

export type LeaseOutcome = { readonly acquired: true } | LeaseRefusal

type LeaseRepos = Pick<Repositories, 'leases'>

/** A step parked on its engine's quota keeps the worktree: its work there is not finished. */
const HOLDING: readonly StepStatus[] = ['running', 'waiting_quota']

/** Who asks for the worktree: a step's job or run-level work, in a transaction of job `inJob`. */
interface Taker {
  readonly stepRunId?: number
  readonly jobId?: string
  readonly heldFor?: RunLease['heldFor']
  readonly inJob?: string
}

/**
 * Whether the stored take still has the worktree, as `taker` sees it. A step `running` or parked
 * does (except to itself). Otherwise the holder's job decides: while it is `started` its work goes
 * on, whatever the step's status says: a QA agent reading the tree of a step in `needs_qa` (a
 * second QA job of the step waits for the first), an execution agent still at work in a step a
 * user sent to QA, an execution job's inline QA, an agent still at work in a step a CI failure
 * failed, a loop reset, CI or a user completed or cancelled, run-level work (`heldFor`). A job
 * that finished its work released the lease in the transaction that says so (`leases.release`:
 * an execution handing over to its QA, a job completing its step); a queued or ended job holds
 * nothing, and neither does the holder's job itself: again (a retry), or handing the worktree on
 * in its own transaction (a loop or trigger policy, a conflict re-opening the step). Run-level
 * work is never the step's own take, even in that step's name.
 */
const stillHolds = (
  { holder, lease, jobStarted }: LeaseWithHolder & { holder: StepRun },
  taker: Taker,
): boolean => {
  if (lease.jobId === taker.jobId) return false
  if (lease.heldFor === undefined) {
    const ownStep = taker.heldFor === undefined && lease.stepRunId === taker.stepRunId
    if (HOLDING.includes(holder.status)) return !ownStep
  }
  return lease.jobId !== taker.inJob && jobStarted
}

/**
 * Takes the run's worktree for `want.stepRunId` (W-39: one agent per worktree), in a transaction
 * of job `takenInJob` when a job's work takes it. Call in the transaction that moves the step to
 * `running`, or before a full QA reads the worktree. A holder that is still at work (stillHolds)
 * refuses the lease; any other has released it, whatever ended its work (executed, completed,
 * cancelled, or failed for good after its job's lease expired). The swap is a compare-and-set on
 * the take that was read (its version, not only its step: a failed step started again keeps its
 * step id), so of two concurrent takes exactly one wins, and the loser re-reads the winner in a
 * fresh statement (read committed) and is refused.
 */
export const acquireRunLease = async (
  tx: LeaseRepos,
  want: RunLease,
  takenInJob?: string,
): Promise<LeaseOutcome> => {
  // Most takes find the worktree free, with no take stored (whoever finished there released it):
  // the insert alone takes it then, and only a stored take is read and judged.
  if (await tx.leases.swap(want, undefined)) return { acquired: true }
  for (let tries = 0; tries < 3; tries += 1) {
    const current = await tx.leases.findWithHolder(want.protocolRunId)
    const taker = { stepRunId: want.stepRunId, jobId: want.jobId, heldFor: want.heldFor, inJob: takenInJob }
    const refusal = refusalBy(current, taker)
    if (refusal) return refusal
    if (await tx.leases.swap(want, current?.lease)) return { acquired: true }
  }
  throw new AppError('ORC_STATE_CHANGED', `Run ${want.protocolRunId} changed concurrently; try again`)
}

/** The refusal `taker` meets when the stored take's holder is still at work; undefined when free. */
const refusalBy = (current: LeaseWithHolder | undefined, taker: Taker): LeaseRefusal | undefined => {
  const holder = current?.holder
  if (!current || !holder || !stillHolds({ ...current, holder }, taker)) return undefined
  return { acquired: false, holder, activity: activityOf(holder, current.lease) }
}

/** Who is at work in the run's worktree, without taking it; undefined when it is free. */
export const worktreeHolder = async (
  tx: LeaseRepos,
  protocolRunId: number,
): Promise<LeaseRefusal | undefined> => refusalBy(await tx.leases.findWithHolder(protocolRunId), {})

/** What the holder of a worktree is doing there, for messages. */
const activityOf = (holder: StepRun, lease: RunLease): string => {
  if (lease.heldFor === 'base_sync') return 'having its branch synced with the base'
  if (lease.heldFor === 'open_pr') return 'having its pull request opened'
  if (holder.status === 'needs_qa') return 'under QA'
  if (holder.status === 'waiting_quota') return 'parked'
  return holder.status === 'running' ? 'executing' : `${holder.status}, its job still ending`
}

/** As acquireRunLease for a user's start: a held worktree is a 409 naming the running step. */
export const holdRunLeaseOrRefuse = async (
  tx: LeaseRepos,
  want: RunLease,
  takenInJob: string | undefined,
): Promise<void> => {
  const outcome = await acquireRunLease(tx, want, takenInJob)
  if (outcome.acquired) return
  const { holder, activity } = outcome
  throw new AppError(
    'ORC_RUN_BUSY',
    `Protocol run ${want.protocolRunId} is busy: step ${holder.id} (${holder.stepName}) is ${activity} ` +
      "in its worktree; a run's worktree takes one agent at a time, so start this one when it has finished",
    { running_step_id: holder.id },
  )
}
