import { JOB_STATUSES, type Job, type JobStatKey, type JobStatus } from '../../domain/job.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import { unreadableProjects } from '../events/visibility.js'
import type { QueueBackend } from '../queue.js'

export interface QueueStats {
  readonly backend: QueueBackend
  readonly default: Record<JobStatKey, number>
}

export const makeQueueStats =
  ({ repos, backend }: Pick<AppDeps, 'repos'> & { backend: QueueBackend }) =>
  async (): Promise<QueueStats> => ({ backend, default: await repos.jobs.counts() })

export interface JobQuery {
  readonly status?: string
  readonly projectId?: number
  readonly limit: number
}

/**
 * Jobs newest first. An unknown status yields an empty list, as the original did. Payloads of
 * token-protected projects are only listed for callers holding that project's token.
 */
export const makeListJobs =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (query: JobQuery, ctx: ChangeOrigin): Promise<Job[]> => {
    if (query.status !== undefined && !isListableStatus(query.status)) return []
    if (query.projectId !== undefined) await authorizeProject(repos, query.projectId, ctx)
    const excludeProjectIds = query.projectId === undefined ? await unreadableProjects(repos, ctx) : []
    const status = query.status as JobStatus | 'delayed' | undefined
    return repos.jobs.list({ status, projectId: query.projectId, excludeProjectIds, limit: query.limit })
  }

const isListableStatus = (status: string): boolean =>
  status === 'delayed' || (JOB_STATUSES as readonly string[]).includes(status)
