import { AppError } from '../../domain/app-error.js'
import type { StepStatus } from '../../domain/statuses.js'
import type { StepRun } from '../../domain/step-run.js'
import type { Repositories } from '../ports.js'
import type { RunLease } from './run-lease.port.js'

export type LeaseOutcome =
  { readonly acquired: true } | { readonly acquired: false; readonly holder: StepRun }

type LeaseRepos = Pick<Repositories, 'leases'>

/** A step parked on its engine's quota keeps the worktree: its work there is not finished. */
const HOLDING: readonly StepStatus[] = ['running', 'waiting_quota']

/**
 * Takes the run's worktree for `want.stepRunId` (W-39: one agent writer per worktree). Call in the
 * transaction that moves the step to `running`. A stored holder whose step is no longer `running`
 * (or `waiting_quota`) has released the lease, whatever ended it (executed, failed, blocked, cancelled, or failed for
 * good after its job's lease expired); a holder that is still running refuses the lease. The swap
 * is a compare-and-set on the stored holder, so of two concurrent starts exactly one wins, and
 * the loser re-reads the winner in a fresh statement (read committed) and is refused.
 */
export const acquireRunLease = async (tx: LeaseRepos, want: RunLease): Promise<LeaseOutcome> => {
  for (let tries = 0; tries < 3; tries += 1) {
    const current = await tx.leases.findWithHolder(want.protocolRunId)
    if (current && current.lease.stepRunId !== want.stepRunId) {
      const { holder } = current
      if (holder && HOLDING.includes(holder.status)) return { acquired: false, holder }
    }
    if (await tx.leases.swap(want, current?.lease.stepRunId)) return { acquired: true }
  }
  throw new AppError('ORC_STATE_CHANGED', `Run ${want.protocolRunId} changed concurrently; try again`)
}

/** As acquireRunLease for a user's start: a held worktree is a 409 naming the running step. */
export const holdRunLeaseOrRefuse = async (tx: LeaseRepos, want: RunLease): Promise<void> => {
  const outcome = await acquireRunLease(tx, want)
  if (outcome.acquired) return
  const { holder } = outcome
  throw new AppError(
    'ORC_RUN_BUSY',
    `Protocol run ${want.protocolRunId} is already executing step ${holder.id} (${holder.stepName}); ` +
      'a run executes one step at a time in its worktree, so start this one when it has finished',
    { running_step_id: holder.id },
  )
}
