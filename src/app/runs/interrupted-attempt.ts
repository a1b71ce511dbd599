import type { ChangeOrigin } from '../context.js'
import type { JobAttempt } from '../queue-runtime/job-handler.js'
import type { StepScope } from '../protocol/execution/step-context.js'
import type { UnitOfWork } from '../ports.js'

/**
 * A later attempt of an execute job means the one before did not finish: its worker died (lease
 * expired), its agent stalled, or an error stopped it. The worktree is kept as that attempt left
 * it — uncommitted files included, nothing is reset — so the agent is told to continue from it.
 */
export const isResumedAttempt = (job: Pick<JobAttempt, 'attempt'>): boolean => job.attempt > 1

/** The prompt section that tells the agent its previous attempt was interrupted. */
export const interruptedAttemptSections = (
  job: Pick<JobAttempt, 'attempt' | 'maxAttempts'>,
): Array<[string, string]> =>
  isResumedAttempt(job)
    ? [
        [
          'Previous attempt interrupted',
          `This is attempt ${job.attempt} of ${job.maxAttempts}. Attempt ${job.attempt - 1} was interrupted ` +
            'before it finished (its worker stopped or its agent went silent). The worktree is exactly as ' +
            'that attempt left it, uncommitted changes included: look at what is already there and ' +
            'continue from it instead of starting over.',
        ],
      ]
    : []

/** Records `execution_resumed` (attempt numbers, interruption) when an attempt follows another. */
export const recordResumedAttempt = async (
  deps: { readonly uow: UnitOfWork },
  context: Pick<StepScope, 'run' | 'step'>,
  job: Pick<JobAttempt, 'attempt' | 'maxAttempts' | 'jobId'>,
  ctx: ChangeOrigin,
): Promise<void> => {
  if (!isResumedAttempt(job)) return
  await deps.uow.run((tx) =>
    tx.events.append({
      projectId: context.run.projectId,
      protocolRunId: context.run.id,
      stepRunId: context.step.id,
      eventType: 'execution_resumed',
      message: `Step ${context.step.stepName}: attempt ${job.attempt} of ${job.maxAttempts} continues in the worktree attempt ${job.attempt - 1} left (interrupted).`,
      metadata: {
        job_id: job.jobId,
        attempt: job.attempt,
        max_attempts: job.maxAttempts,
        previous_attempt: job.attempt - 1,
        interrupted: true,
        ...(ctx.requestId ? { request_id: ctx.requestId } : {}),
      },
    }),
  )
}
