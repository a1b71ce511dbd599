import { AppError } from '../../domain/app-error.js'
import { branchCandidates, repositoryKey, type CiNotice } from '../../domain/ci-notice.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { Repositories } from '../ports.js'
import type { WebhookIdentity } from './verify-webhook.js'

const unmatched = (why: string): AppError =>
  new AppError('ORC_WEBHOOK_UNMATCHED', `Protocol run not found for webhook: ${why}`)

/**
 * The run a notice is about: the explicit `protocol_run_id`, else the run on the notice's branch
 * in the project whose git URL is the notice's repository (or whose secret signed it). Setup runs
 * never match, and a branch found in several projects without a repository to tell is refused.
 */
export const correlateRun = async (
  tx: Pick<Repositories, 'runs' | 'projects'>,
  notice: CiNotice,
  identity: WebhookIdentity,
  protocolRunId: number | undefined,
): Promise<ProtocolRun> => {
  if (protocolRunId !== undefined) {
    const run = await tx.runs.findById(protocolRunId)
    if (!run || (identity.projectId !== null && run.projectId !== identity.projectId)) {
      throw unmatched(`no run ${protocolRunId}`)
    }
    return run
  }
  const repositoryKeys = new Set(
    notice.repositoryUrls.map(repositoryKey).filter((k): k is string => k !== null),
  )
  for (const branch of branchCandidates(notice.branch)) {
    const runs = (await tx.runs.findByBranch(branch)).filter((run) => !run.protocolName.startsWith('setup-'))
    const inScope = await filterAsync(runs, async (run) => {
      if (identity.projectId !== null) return run.projectId === identity.projectId
      if (repositoryKeys.size === 0) return true
      const project = await tx.projects.findById(run.projectId)
      const key = project ? repositoryKey(project.gitUrl) : null
      return key !== null && repositoryKeys.has(key)
    })
    if (inScope.length === 1) return inScope[0]!
    if (inScope.length > 1)
      throw unmatched(`branch ${branch} belongs to runs of several projects; pass protocol_run_id`)
  }
  throw unmatched(
    notice.branch === null ? 'the payload names no branch' : `no run on branch ${notice.branch}`,
  )
}

const filterAsync = async <T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> => {
  const verdicts = await Promise.all(items.map(keep))
  return items.filter((_, index) => verdicts[index])
}
