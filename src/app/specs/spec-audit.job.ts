import type { JsonObject } from '../../domain/json.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { buildSpecFromStepFiles, type ProtocolSpec } from '../../domain/spec.js'
import type { Repositories } from '../ports.js'
import { validateProtocolSpec } from '../spec-validation.js'
import type { JobHandler } from '../queue-runtime/job-handler.js'
import { jobContext } from '../protocol/job-origin.js'
import { withSpec } from '../protocol/planning/plan-recording.js'
import type { ProtocolJobDeps } from '../protocol/protocol-job-deps.js'
import { specOfRun } from '../protocol/execution/step-context.js'

const PAGE = 200

/**
 * spec_audit_job: validates the spec of every run in scope (one run, one project, or all),
 * building it from the protocol's step files first when `backfill_missing` and it has none;
 * updates `spec_meta` and records one `spec_audit` event per run audited. Statuses are untouched.
 */
export const createSpecAuditHandler =
  (deps: ProtocolJobDeps): JobHandler<'spec_audit_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const runs = await deps.uow.run((tx) => runsInScope(tx, payload.project_id, payload.protocol_id))
    const counts = { audited: 0, valid: 0, invalid: 0, backfilled: 0, skipped: 0 }
    for (const run of runs) {
      if (job.signal.aborted) throw job.signal.reason
      const audit = auditRun(deps, run, payload.backfill_missing)
      if (!audit) {
        counts.skipped++
        continue
      }
      counts.audited++
      counts[audit.errors.length === 0 ? 'valid' : 'invalid']++
      if (audit.backfilled) counts.backfilled++
      await deps.uow.run(async (tx) => {
        const fresh = await tx.runs.findById(run.id)
        if (!fresh) return
        await tx.runs.update(run.id, { templateConfig: withSpec(fresh, audit.spec, audit.errors) })
        await tx.events.append({
          projectId: run.projectId,
          protocolRunId: run.id,
          eventType: 'spec_audit',
          message:
            audit.errors.length === 0 ? 'Spec valid.' : `Spec invalid: ${audit.errors.length} error(s).`,
          metadata: { errors: [...audit.errors], backfilled: audit.backfilled, job_id: ctx.jobId ?? null },
        })
      })
    }
    return counts
  }

const auditRun = (deps: ProtocolJobDeps, run: ProtocolRun, backfill: boolean) => {
  const stored = specOfRun(run)
  const root = run.protocolRoot && deps.files.exists(run.protocolRoot) ? run.protocolRoot : null
  let spec: ProtocolSpec | undefined = stored
  if (!spec && backfill && root)
    spec = buildSpecFromStepFiles(deps.files.list(root), { qaPolicy: 'full', engineId: null })
  if (!spec) return undefined
  const roots = root && run.worktreePath ? { protocolRoot: root, workspace: run.worktreePath } : undefined
  const errors = validateProtocolSpec(deps.assets, spec, {
    engineIds: deps.engines.ids(),
    ...(roots ? { roots, probe: deps.files } : {}),
  })
  return { spec, errors, backfilled: !stored }
}

const runsInScope = async (
  tx: Repositories,
  projectId: number | null,
  protocolId: number | null,
): Promise<ProtocolRun[]> => {
  if (protocolId !== null) {
    const run = await tx.runs.findById(protocolId)
    return run && (projectId === null || run.projectId === projectId) ? [run] : []
  }
  const projectIds = projectId !== null ? [projectId] : await allProjectIds(tx)
  const runs: ProtocolRun[] = []
  for (const id of projectIds) {
    let beforeId: number | undefined
    for (;;) {
      const page = await tx.runs.listByProject(id, { limit: PAGE, ...(beforeId ? { beforeId } : {}) })
      runs.push(...page)
      if (page.length < PAGE) break
      beforeId = page.at(-1)?.id
    }
  }
  return runs
}

const allProjectIds = async (tx: Repositories): Promise<number[]> => {
  const ids: number[] = []
  let beforeId: number | undefined
  for (;;) {
    const page = await tx.projects.list({ limit: PAGE, ...(beforeId ? { beforeId } : {}) })
    ids.push(...page.map((project) => project.id))
    if (page.length < PAGE) return ids
    beforeId = page.at(-1)?.id
  }
}
