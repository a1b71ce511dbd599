import { AppError } from '../../domain/app-error.js'
import { branchNameProblem } from '../../domain/git-refs.js'
import type { Project } from '../../domain/project.js'
import { isTerminalProtocolStatus } from '../../domain/statuses.js'
import type { AppDeps } from '../app-deps.js'
import { authorizeProject } from '../access.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import type { GitClient } from '../git.port.js'

export type BranchDeps = Pick<AppDeps, 'uow' | 'repos'> & {
  readonly git: Pick<GitClient, 'locateRepo' | 'listRemoteHeads' | 'deleteRemoteBranch'>
}

const GIT_TIMEOUT_MS = 60_000

/** The project's checkout; never cloned inside a request (409 until a job has cloned it). */
const checkoutOf = (deps: BranchDeps, project: Project): string => {
  const repo = deps.git.locateRepo({ gitUrl: project.gitUrl, localPath: project.localPath })
  if (!repo.exists) throw new AppError('ORC_REPO_NOT_PRESENT', `Repository not present locally at ${repo.path}`)
  return repo.path
}

const projectEvent = (deps: BranchDeps, project: Project, type: string, { message, metadata, origin: ctx }: { readonly message: string; readonly metadata: object; readonly origin: ChangeOrigin }) =>
  deps.uow.run((tx) =>
    tx.events.append({ projectId: project.id, eventType: type, message, metadata: withTrace({ project_id: project.id, ...metadata }, ctx) }),
  )

/** Branches on `origin` (ls-remote), recorded as a project-level `branches_listed` event. */
export const makeListBranches =
  (deps: BranchDeps) =>
  async (projectId: number, ctx: ChangeOrigin): Promise<{ branches: string[] }> => {
    const project = await authorizeProject(deps.repos, projectId, ctx)
    const branches = await deps.git.listRemoteHeads(checkoutOf(deps, project), AbortSignal.timeout(GIT_TIMEOUT_MS))
    await projectEvent(deps, project, 'branches_listed', { message: 'Listed remote branches.', metadata: { branches }, origin: ctx })
    return { branches }
  }

/**
 * Deletes a branch on `origin` after an explicit confirmation. The project's base branch and the
 * branch of any active run are refused (409); failures are recorded as `branch_delete_failed`.
 */
export const makeDeleteBranch =
  (deps: BranchDeps) =>
  async (projectId: number, branch: string, confirm: boolean, ctx: ChangeOrigin): Promise<{ deleted: true; branch: string }> => {
    const project = await authorizeProject(deps.repos, projectId, ctx)
    if (!confirm) throw new AppError('ORC_BAD_REQUEST', 'confirm=true required to delete a remote branch')
    const problem = branchNameProblem(branch)
    if (problem) throw new AppError('ORC_BRANCH_NAME_INVALID', `Branch name ${JSON.stringify(branch)} is invalid: ${problem}`)
    if (branch === project.baseBranch) throw new AppError('ORC_CONFLICT', `Branch ${branch} is the project's base branch`)
    const runs = await deps.repos.runs.findByBranch(branch, project.id)
    const active = runs.find((run) => !isTerminalProtocolStatus(run.status))
    if (active) throw new AppError('ORC_CONFLICT', `Branch ${branch} belongs to active run ${active.protocolName} (${active.status})`)
    const path = checkoutOf(deps, project)
    try {
      await deps.git.deleteRemoteBranch(path, branch, AbortSignal.timeout(GIT_TIMEOUT_MS))
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      await projectEvent(deps, project, 'branch_delete_failed', { message: `Failed to delete remote branch ${branch}: ${reason}`, metadata: { branch }, origin: ctx })
      throw error
    }
    await projectEvent(deps, project, 'branch_deleted', { message: `Deleted remote branch ${branch}.`, metadata: { branch }, origin: ctx })
    return { deleted: true, branch }
  }
