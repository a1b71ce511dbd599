import type { JsonObject } from '../../domain/json.js'
import type { JobHandler } from '../queue-runtime/job-handler.js'
import { jobContext } from '../protocol/job-origin.js'
import { prepareWorkspace, readRunAndProject } from '../protocol/run-workspace.js'
import type { ProtocolJobDeps } from '../protocol/protocol-job-deps.js'
import { reviewIgnoredReason } from '../reviews/review-eligibility.js'
import { holdWorktreeForRunWork } from '../runs/run-work-lease.js'
import { syncDepsOf, syncRunWithBase } from './sync-with-base.js'

/**
 * base_sync_job: the base branch of a run with an open PR/MR moved (push webhook). Rebases the
 * run's branch onto it in its worktree, or dispatches the conflict to the agent. Leaves alone a
 * run that is over (cancelled, failed, merged) or paused, has no PR yet (open_pr_job syncs it first), or
 * whose worktree a step holds (its agent is writing there, or QA reading; the agent's own push
 * comes later). Otherwise it holds the worktree itself until it ends (the run lease).
 */
export const createBaseSyncHandler =
  (deps: ProtocolJobDeps): JobHandler<'base_sync_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const loaded = await deps.uow.run(async (tx) => {
      const found = await readRunAndProject(tx, payload.protocol_run_id)
      if (!found) return { skipped: 'run not found' }
      const over = await reviewIgnoredReason(tx, found.run)
      if (over !== undefined) return { skipped: over }
      if (found.run.prNumber === null) return { skipped: 'no PR/MR yet' }
      if (found.run.status === 'paused') return { skipped: 'run is paused' }
      // Held until this job ends: a step started meanwhile waits for the worktree instead of
      // having its branch rebased under its agent.
      const lease = await holdWorktreeForRunWork(tx, found.run.id, { jobId: job.jobId, work: 'base_sync' })
      if (!lease.acquired)
        return { skipped: `step ${lease.holder.stepName} is ${lease.activity} in the worktree` }
      return found
    })
    if ('skipped' in loaded) return loaded
    const workspace = await prepareWorkspace(deps, loaded, job.signal)
    if ('missing' in workspace) return { skipped: workspace.missing }
    return { outcome: await syncRunWithBase(syncDepsOf(deps), loaded, workspace.ok, job.signal, ctx) }
  }
