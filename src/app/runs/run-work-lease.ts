import type { Repositories } from '../ports.js'
import { lastExecutedStep } from '../../domain/step-run.js'
import { acquireRunLease, type LeaseOutcome } from './run-lease.js'
import type { RunWork } from './run-lease.port.js'

/**
 * Takes a run's worktree for run-level work (`work`) done by job `jobId`, in the name of the step
 * executed last: it holds while that job runs, and a step started meanwhile waits for it. A run
 * with no step yet has no step that could start there: nothing to take.
 */
export const holdWorktreeForRunWork = async (
  tx: Pick<Repositories, 'steps' | 'leases' | 'jobs'>,
  protocolRunId: number,
  { jobId, work }: { readonly jobId: string; readonly work: RunWork },
): Promise<LeaseOutcome> => {
  const step = lastExecutedStep(await tx.steps.listByRun(protocolRunId))
  if (!step) return { acquired: true }
  return acquireRunLease(tx, { protocolRunId, stepRunId: step.id, jobId, heldFor: work }, jobId)
}
