import type { StepRun } from '../../domain/step-run.js'

/** Work on a run's branch that is no step's own and still needs its worktree to itself. */
export type RunWork = 'base_sync' | 'open_pr'

/** The step (and its execute or QA job) that holds a run's worktree. */
export interface RunLease {
  readonly protocolRunId: number
  readonly stepRunId: number
  readonly jobId: string
  /**
   * Set when run-level work took the worktree in the step's name: it holds it while its job
   * is running, whatever the step's status. Absent: the step's own work.
   */
  readonly heldFor?: RunWork
}

/** A lease as stored: `version` moves with every take, so a swap can name the take it read. */
export interface StoredRunLease extends RunLease {
  readonly version: number
}

/** A run's lease row as read, with what decides whether its holder is still at work. */
export interface LeaseWithHolder {
  readonly lease: StoredRunLease
  /** The step the lease names, as it is now; undefined when the step is gone. */
  readonly holder: StepRun | undefined
  /** Whether the job that took the lease is `started` (an attempt of it is at work). */
  readonly jobStarted: boolean
}

/**
 * The `run_leases` rows: at most one per run. The repository only stores and swaps rows; whether
 * a holder is still alive (its step still `running`) is the caller's call, read in the same
 * transaction (see `run-lease.ts`).
 */
export interface RunLeaseRepository {
  /** The run's lease row, live or stale, with its holder, in one read; undefined when none is stored. */
  findWithHolder(protocolRunId: number): Promise<LeaseWithHolder | undefined>
  /**
   * Drops the run's lease if job `jobId` took it: that job has finished its work in the worktree,
   * in the transaction that says so, before its attempt is settled.
   */
  release(protocolRunId: number, jobId: string): Promise<void>
  /**
   * Stores `next` if the run's stored lease is still the take `expected` (undefined: no row). False,
   * with nothing written, when another transaction took it first, even for the same step. A take
   * is its job and version together: a released row is deleted, and the next insert starts its
   * version over.
   */
  swap(next: RunLease, expected: Pick<StoredRunLease, 'version' | 'jobId'> | undefined): Promise<boolean>
}
