import type { JsonObject } from '../../../domain/json.js'
import { hostTargetOf, unreachableHost, type HostTarget } from '../../code-host-target.js'
import type { CodeHost, PullRequestRef, PullRequestSpec } from '../../code-host.port.js'
import type { ChangeOrigin } from '../../context.js'
import type { Repositories } from '../../ports.js'
import { syncDepsOf, syncRunWithBase } from '../../protocol-merge/sync-with-base.js'
import { JobDeferral } from '../../queue-runtime/job-deferral.js'
import { holdWorktreeForRunWork } from '../../runs/run-work-lease.js'
import { worktreeBusy } from '../../runs/worktree-wait.js'
import type { JobHandler } from '../../queue-runtime/job-handler.js'
import { commitMessage } from '../commit-message.js'
import { jobContext } from '../job-origin.js'
import { prepareWorkspace, readRunAndProject, type RunAndProject } from '../run-workspace.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { leftOutMetadata } from '../execution/step-outcomes.js'

const FINISHED = new Set(['cancelled', 'failed'])

/**
 * open_pr_job: commits what is pending, pushes the run's branch and opens a draft PR (GitHub) or
 * MR (GitLab) — or adopts the open one for the branch, so a retry never opens a second.
 */
export const createOpenPrHandler =
  (deps: ProtocolJobDeps): JobHandler<'open_pr_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const loaded = await deps.uow.run((tx) => readRunAndProject(tx, payload.protocol_run_id))
    if (!loaded || FINISHED.has(loaded.run.status)) return { skipped: 'run is gone or finished' }
    if (loaded.run.prUrl) return { skipped: 'pull request already recorded', pr_url: loaded.run.prUrl }
    const target = hostTargetOf(loaded.project)
    const host = target && deps.codeHosts.get(target.provider)
    if (!target || !host) {
      const message = target ? unreachableHost(target) : 'The git URL names no code host.'
      await deps.uow.run((tx) => note(tx, loaded, 'open_pr_skipped', { message, origin: ctx }))
      return { skipped: message }
    }
    // It commits, rebases and pushes in the worktree: a step at work there is waited for, and
    // one started meanwhile waits for this job.
    const lease = await deps.uow.run((tx) =>
      holdWorktreeForRunWork(tx, loaded.run.id, { jobId: job.jobId, work: 'open_pr' }),
    )
    if (!lease.acquired) throw worktreeBusy(lease)
    const workspace = await prepareWorkspace(deps, loaded, job.signal)
    if ('missing' in workspace) throw new Error(workspace.missing)
    const { path, branch } = workspace.ok
    const { leftOut } = await deps.git.commitAll(
      path,
      commitMessage(loaded.run.protocolName, 'pr', 'Pending changes'),
      job.signal,
    )
    if (leftOut.length > 0) {
      const names = leftOut.map(({ path: file, reason }) => `${file} (${reason})`).join(', ')
      const message = `Left out of the commit: ${names}`
      await deps.uow.run((tx) =>
        note(tx, loaded, 'commit_files_left_out', {
          message,
          origin: ctx,
          metadata: leftOutMetadata(leftOut),
        }),
      )
    }
    // A branch that no longer merges into its base is brought up to date (or its conflict goes
    // to the agent) before a PR is opened for it.
    const synced = await syncRunWithBase(syncDepsOf(deps), loaded, workspace.ok, job.signal, ctx)
    // Paused meanwhile: the job waits for the resume (held by the precheck), then checks again.
    if (synced === 'conflict_paused')
      throw new JobDeferral(new Date(), 'The run was paused; the PR waits for its resume')
    if (synced !== 'in_sync' && synced !== 'rebased') return { outcome: synced }
    await deps.git.push(path, branch, job.signal)
    const spec = pullRequestSpec(loaded, target, branch)
    const existing = await host.findOpen(spec, job.signal)
    const pr = existing ?? (await host.createDraft(spec, job.signal))
    const type = existing ? 'pr_exists' : 'pr_opened'
    await deps.uow.run((tx) => recordPr(tx, loaded, pr, { type, host, origin: ctx }))
    return { outcome: type, pr_url: pr.url, pr_number: pr.number, via: host.via }
  }

const pullRequestSpec = ({ run }: RunAndProject, target: HostTarget, branch: string): PullRequestSpec => ({
  repository: target.repository,
  hostName: target.hostName,
  head: branch,
  base: run.baseBranch,
  title: `[${run.protocolName}] ${run.description?.split('\n')[0]?.trim() || run.protocolName}`,
  body: `Protocol ${run.protocolName}, run ${run.id}, opened by TasksGodzilla.\n\nSee .protocols/${run.protocolName}/plan.md.`,
})

const recordPr = async (
  tx: Repositories,
  loaded: RunAndProject,
  pr: PullRequestRef,
  {
    type,
    host,
    origin: ctx,
  }: { readonly type: string; readonly host: CodeHost; readonly origin: ChangeOrigin },
) => {
  await tx.runs.update(loaded.run.id, { prUrl: pr.url, prNumber: pr.number })
  const message =
    type === 'pr_opened'
      ? `Draft ${host.provider} PR #${pr.number} opened.`
      : `PR #${pr.number} already open.`
  const metadata = { pr_url: pr.url, pr_number: pr.number, provider: host.provider, via: host.via }
  await note(tx, loaded, type, { message, origin: ctx, metadata })
}

const note = (
  tx: Repositories,
  { run }: RunAndProject,
  type: string,
  {
    message,
    origin: ctx,
    metadata = {},
  }: { readonly message: string; readonly origin: ChangeOrigin; readonly metadata?: JsonObject },
) =>
  tx.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    eventType: type,
    message,
    metadata: { ...metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
