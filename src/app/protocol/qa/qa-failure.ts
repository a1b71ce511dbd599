import { qaFailureState } from '../../../domain/retry-feedback.js'
import type { Repositories } from '../../ports.js'

/**
 * Keeps a failed QA report on the step (`runtime_state.qa_failure`, with the head it judged), in
 * the caller's transaction, so the step's next attempt is told what the reviewer found.
 */
export const rememberQaFailure = async (
  tx: Pick<Repositories, 'steps'>,
  stepId: number,
  report: string,
): Promise<void> => {
  const step = await tx.steps.findById(stepId)
  if (!step) return
  const qaFailure = qaFailureState(report, step.headSha, new Date().toISOString())
  await tx.steps.mergeRuntimeState(stepId, { qa_failure: qaFailure })
}
