import { AppError } from '../../domain/app-error.js'
import type { JsonObject } from '../../domain/json.js'
import { templateEnginesIssue } from '../../domain/engine-chain.js'
import { refuseModelIssue, templateModelsIssue } from '../../domain/model-name.js'
import type { Project } from '../../domain/project.js'
import { protocolNameProblem } from '../../domain/protocol-name.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { ProtocolStatus } from '../../domain/statuses.js'
import type { AppDeps } from '../app-deps.js'
import { authorizedListing, authorizeProject, authorizeRun, readerOf } from '../access.js'
import type { ChangeOrigin } from '../context.js'
import { checkInsideProjectFolder, type ProjectFolderDeps } from '../projects/project-folder.js'
import type { Page } from '../ports.js'
import { summarizeSpec, type SpecSummary } from './spec-summary.js'

export interface CreateProtocolInput {
  readonly protocolName: string
  readonly status: ProtocolStatus
  readonly baseBranch: string
  readonly worktreePath: string | null
  readonly protocolRoot: string | null
  readonly description: string | null
  readonly templateConfig: JsonObject | null
  readonly templateSource: JsonObject | null
}

/**
 * Creates a run under a project; the name must be `NNNN-short-name` and unique in the project (409).
 * `worktree_path` and `protocol_root` are where a run reads and writes, so a caller may only name
 * folders inside the project's own folder (422 otherwise, as the CodeMachine import).
 */
export const makeCreateProtocol =
  ({
    uow,
    repos,
    git,
    files,
    engineIds,
  }: Pick<AppDeps, 'uow' | 'repos'> & ProjectFolderDeps & { readonly engineIds: readonly string[] }) =>
  async (projectId: number, input: CreateProtocolInput, ctx: ChangeOrigin): Promise<ProtocolRun> => {
    const project = await authorizeProject(repos, projectId, ctx)
    const problem = protocolNameProblem(input.protocolName)
    if (problem) throw new AppError('ORC_VALIDATION_FAILED', problem, { field: 'protocol_name' })
    refuseModelIssue(templateModelsIssue(input.templateConfig))
    refuseModelIssue(templateEnginesIssue(input.templateConfig, engineIds))
    const folder = { git, files }
    const worktreePath = pathInProjectFolder(folder, project, input.worktreePath, 'worktree_path')
    const protocolRoot = pathInProjectFolder(folder, project, input.protocolRoot, 'protocol_root')
    return uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      const run = await tx.runs.create({ projectId, ...input, worktreePath, protocolRoot })
      await tx.events.append({
        projectId,
        protocolRunId: run.id,
        eventType: 'protocol_created',
        message: `Protocol ${run.protocolName} created.`,
        metadata: ctx.requestId === undefined ? {} : { request_id: ctx.requestId },
      })
      return run
    })
  }

/** A caller's path checked to lie in the project's folder, stored as its real path when it exists. */
const pathInProjectFolder = (
  folder: ProjectFolderDeps,
  project: Project,
  path: string | null,
  field: string,
): string | null => {
  if (path === null) return null
  const checked = checkInsideProjectFolder(folder, project, path, field)
  return checked.real ?? checked.lexical
}

export const makeListProtocols =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (projectId: number, page: Page, ctx: ChangeOrigin): Promise<ProtocolRun[]> => {
    const runs = await repos.runs.listByProjectFor(projectId, page, readerOf(ctx))
    return authorizedListing(runs, () => authorizeProject(repos, projectId, ctx))
  }

export const makeGetProtocol =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (runId: number, ctx: ChangeOrigin): Promise<ProtocolRun> =>
    (await authorizeRun(repos, runId, ctx)).run

export const makeGetSpec =
  ({ repos }: Pick<AppDeps, 'repos'>) =>
  async (runId: number, ctx: ChangeOrigin): Promise<{ run: ProtocolRun; summary: SpecSummary }> => {
    const { run } = await authorizeRun(repos, runId, ctx)
    return { run, summary: summarizeSpec(run) }
  }
