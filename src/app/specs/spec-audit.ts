import type { AppDeps } from '../app-deps.js'
import { authorizeProject, authorizeRun } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import type { ActionResult } from '../protocols/protocol-actions.js'

export interface SpecAuditInput {
  readonly projectId: number | null
  readonly protocolId: number | null
  readonly backfill: boolean
  readonly intervalSeconds: number | null
}

/** Enqueues a spec audit; a project or run filter enforces that project's token (the original let run ids bypass it). */
export const makeEnqueueSpecAudit =
  ({ uow, jobPolicy }: Pick<AppDeps, 'uow' | 'jobPolicy'>) =>
  (input: SpecAuditInput, ctx: ChangeOrigin): Promise<ActionResult> =>
    uow.run(async (tx) => {
      let projectId = input.projectId
      if (projectId !== null) await authorizeProject(tx, projectId, ctx)
      if (input.protocolId !== null) projectId = (await authorizeRun(tx, input.protocolId, ctx)).run.projectId
      const payload = {
        project_id: input.projectId,
        protocol_id: input.protocolId,
        backfill_missing: input.backfill,
        interval_override: input.intervalSeconds,
      }
      const scope = { projectId, protocolRunId: input.protocolId }
      const job = await enqueueJob(tx.jobs, 'spec_audit_job', payload, {
        scope,
        origin: ctx,
        policy: jobPolicy,
      })
      return { message: 'Spec audit enqueued.', job }
    })
