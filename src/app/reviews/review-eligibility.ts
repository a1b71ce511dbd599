import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { Repositories } from '../ports.js'

/**
 * Why review comments on this run cannot go to the agent, or undefined when they can: cancelled
 * and failed runs are over, and a run whose PR/MR was merged has nothing left to change.
 * A completed run can: its steps are done, but its PR is still open for review.
 */
export const reviewIgnoredReason = async (
  tx: Pick<Repositories, 'events'>,
  run: ProtocolRun,
): Promise<string | undefined> => {
  if (run.status === 'cancelled' || run.status === 'failed') return `run is ${run.status}`
  for (const type of ['pr_merged', 'mr_merged']) {
    const merged = await tx.events.list({ protocolRunId: run.id, eventType: type, limit: 1 })
    if (merged.length > 0) return 'the PR/MR was merged'
  }
  return undefined
}
