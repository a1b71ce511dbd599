import type { Job } from '../../domain/job.js'
import { isTerminalProtocolStatus } from '../../domain/statuses.js'
import type { Logger } from '../../logging.js'
import type { UnitOfWork } from '../ports.js'
import type { JobClaim } from '../job-claim.port.js'
import { JobAbort } from './run-aborts.js'

interface HeartbeatDeps {
  readonly uow: UnitOfWork
  readonly policy: { readonly leaseMs: number; readonly timeoutsMs: Readonly<Record<string, number>> }
  readonly logger?: Logger
}

/**
 * Watches a running attempt until the returned function is called: aborts it at its type's
 * timeout, renews its lease a few times per lease period, and aborts it when the lease was taken
 * over or its run was cancelled elsewhere (the cross-process fallback when no abort message
 * reaches this process).
 */
export const watchAttempt = (
  deps: HeartbeatDeps,
  job: Job,
  claim: JobClaim,
  controller: AbortController,
): (() => void) => {
  const timeout = setTimeout(
    () => controller.abort(new JobAbort('timeout')),
    deps.policy.timeoutsMs[job.type] ?? deps.policy.leaseMs,
  )
  let watching = true
  const beat = async (): Promise<void> => {
    const leaseUntil = new Date(Date.now() + deps.policy.leaseMs).toISOString()
    const { renewed, runStatus } = await deps.uow.run(async (repos) => ({
      renewed: await repos.jobs.renewLease(claim, leaseUntil),
      runStatus:
        job.protocolRunId === null ? undefined : (await repos.runs.findById(job.protocolRunId))?.status,
    }))
    // A beat still in flight when the attempt settled finds the claim released: not a lost lease.
    if (!watching) return
    if (!renewed) controller.abort(new JobAbort('lease_lost'))
    else if (runStatus !== undefined && isTerminalProtocolStatus(runStatus))
      controller.abort(new JobAbort('cancelled'))
  }
  const interval = setInterval(
    () =>
      void beat().catch((error: unknown) =>
        deps.logger?.warn({ err: error, job_id: job.id }, 'lease renewal failed'),
      ),
    Math.max(50, Math.floor(deps.policy.leaseMs / 3)),
  )
  return () => {
    watching = false
    clearTimeout(timeout)
    clearInterval(interval)
  }
}
