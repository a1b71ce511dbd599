import type { ChangeOrigin } from '../context.js'
import type { StepScope } from '../protocol/execution/step-context.js'
import type { Repositories } from '../ports.js'
import { isParkedFor, resumeParkedStep } from './quota-parking.js'
import { awaitsWorktree, startWaitingStep } from './worktree-wait.js'
import type { LeaseRefusal } from './run-lease.js'

/**
 * A step job that comes back to a step it left waiting: for the run's worktree (started when it
 * is free, else `waiting` names the holder) or for its engine's quota (resumed to `running`).
 * Any other step is returned as it is, for the claim's usual checks.
 */
export const resumeWaitingStep = async (
  tx: Repositories,
  context: StepScope,
  jobId: string,
  ctx: ChangeOrigin,
): Promise<{ readonly context: StepScope } | { readonly waiting: LeaseRefusal }> => {
  const { run, step } = context
  if (awaitsWorktree(step, jobId)) {
    const waited = await startWaitingStep(tx, { run, step, jobId }, ctx)
    return 'waiting' in waited ? waited : { context: { ...context, step: waited.started } }
  }
  if (isParkedFor(step, jobId))
    return { context: { ...context, step: await resumeParkedStep(tx, context, ctx) } }
  return { context }
}
