import { branchCandidates, repositoryKey, type CiNotice, type CiProvider } from '../../domain/ci-notice.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { appendRunEvent } from '../api-events.js'
import type { AppDeps } from '../app-deps.js'
import type { ChangeOrigin } from '../context.js'
import { runRetryingConflicts } from '../conflict-retry.js'
import type { Repositories } from '../ports.js'
import type { WebhookIdentity } from '../webhooks/verify-webhook.js'
import { isFirstDelivery } from '../webhooks/webhook-candidates.js'

/** How many projects and runs one push looks at; a base shared by more is unusual. */
const SCAN_LIMIT = 500

interface BasePushDeps extends Pick<AppDeps, 'uow' | 'jobPolicy'> {
  readonly count: (provider: CiProvider, outcome: 'duplicate' | 'applied') => void
}

/** An authenticated push delivery with what was read from it. */
export interface PushDelivery {
  readonly delivery: {
    readonly provider: CiProvider
    readonly deliveryId: string | undefined
    readonly rawBody: Buffer
  }
  readonly notice: CiNotice
  readonly identity: WebhookIdentity
}

/**
 * A push to the base branch of runs with an open PR/MR (and to no run's own branch): each such
 * run gets a base_sync_job (one per run and pushed SHA) and a `base_branch_moved` event, after
 * the usual de-duplication. Undefined when the push is not about a base branch, so the caller
 * treats it as any other CI delivery.
 */
export const receiveBasePush = async (
  deps: BasePushDeps,
  { delivery, notice, identity }: PushDelivery,
  ctx: ChangeOrigin,
): Promise<{ message: string } | undefined> => {
  if (notice.event !== 'push') return undefined
  const branch = branchCandidates(notice.branch)[0]
  if (branch === undefined) return undefined
  const outcome = await runRetryingConflicts(deps.uow, async (tx) => {
    const runs = await runsOnBase(tx, notice, identity, branch)
    if (runs.length === 0) return undefined
    if (!(await isFirstDelivery(tx, delivery))) return 'duplicate' as const
    for (const run of runs) await enqueueSync(tx, deps, run, notice.sha, ctx)
    return runs.length
  })
  if (outcome === undefined) return undefined
  deps.count(delivery.provider, outcome === 'duplicate' ? 'duplicate' : 'applied')
  if (outcome === 'duplicate') return { message: 'Duplicate delivery ignored' }
  return { message: `Base branch ${branch} moved; ${outcome} run(s) to bring up to date` }
}

const runsOnBase = async (
  tx: Repositories,
  notice: CiNotice,
  identity: WebhookIdentity,
  branch: string,
): Promise<ProtocolRun[]> => {
  const own = await tx.runs.findByBranch(branch, identity.projectId ?? undefined)
  if (own.length > 0) return []
  const keys = new Set(notice.repositoryUrls.map(repositoryKey).filter((k): k is string => k !== null))
  const projects =
    identity.projectId !== null
      ? [identity.projectId]
      : (await tx.projects.list({ limit: SCAN_LIMIT }))
          .filter((p) => keys.has(repositoryKey(p.gitUrl) ?? ''))
          .map((p) => p.id)
  const runs: ProtocolRun[] = []
  for (const projectId of projects)
    for (const run of await tx.runs.listByProject(projectId, { limit: SCAN_LIMIT }))
      if (run.baseBranch === branch && run.prNumber !== null && !['cancelled', 'failed'].includes(run.status))
        runs.push(run)
  return runs
}

const enqueueSync = async (
  tx: Repositories,
  deps: BasePushDeps,
  run: ProtocolRun,
  sha: string | null,
  ctx: ChangeOrigin,
): Promise<void> => {
  // One job per run and pushed commit: a redelivery with another id enqueues nothing new.
  const id = `base_sync_job:${run.id}:${sha ?? Date.now()}`
  if (await tx.jobs.findById(id)) return
  const payload = {
    protocol_run_id: run.id,
    job_id: id,
    ...(ctx.requestId ? { request_id: ctx.requestId } : {}),
  }
  await tx.jobs.add({
    id,
    type: 'base_sync_job',
    payload,
    maxAttempts: deps.jobPolicy.maxAttempts,
    projectId: run.projectId,
    // Not scoped to the run: the queue cancels the jobs of a completed run before their handler,
    // and this one is meant for completed runs whose PR is still open. The handler checks the run.
    protocolRunId: null,
    stepRunId: null,
  })
  const metadata = { base_branch: run.baseBranch, sha, job_id: id }
  const message = `Base branch ${run.baseBranch} moved; checking that ${run.branchName} still merges.`
  await appendRunEvent(tx, run, { type: 'base_branch_moved', message, metadata }, ctx)
}
