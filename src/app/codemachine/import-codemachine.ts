import { AppError } from '../../domain/app-error.js'
import type { Job } from '../../domain/job.js'
import type { Project } from '../../domain/project.js'
import { protocolNameProblem } from '../../domain/protocol-name.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { authorizeProject } from '../access.js'
import type { AppDeps } from '../app-deps.js'
import type { Assets } from '../assets.port.js'
import type { ContainedFiles } from '../contained-files.js'
import { withTrace, type ChangeOrigin } from '../context.js'
import type { GitClient } from '../git.port.js'
import { enqueueJob } from '../queue-runtime/enqueue.js'
import { checkInsideProjectFolder } from '../projects/project-folder.js'
import { loadCodeMachineWorkspace } from './load-workspace.js'
import { recordImport } from './record-import.js'

export interface ImportCodeMachineInput {
  readonly protocolName: string
  readonly workspacePath: string
  readonly baseBranch: string
  readonly description: string | null
  readonly enqueue: boolean
}

export interface ImportCodeMachineResult {
  readonly run: ProtocolRun
  readonly job: Job | null
  readonly message: string
}

export type ImportDeps = Pick<AppDeps, 'uow' | 'repos' | 'jobPolicy'> & {
  readonly git: Pick<GitClient, 'locateRepo'>
  /** Reads the workspace's config files, contained and size-capped. */
  readonly files: ContainedFiles
  /** The JSON Schema a workspace's spec is validated against. */
  readonly assets: Assets
}

/**
 * POST /projects/{id}/codemachine/import. Everything is checked before anything is written: the
 * project and its token, the protocol name (422), the workspace (422 outside the project's
 * own folder, existing or not; then 400 when missing) and, read here in
 * full, its config (400 with file:line:col). Inline, the run, its spec and its steps are then written in one transaction
 * (`planned`, or `blocked` on spec validation errors); with `enqueue`, the run (`planning`) and
 * a `codemachine_import_job` are, and the job imports the workspace as it then is.
 */
export const makeImportCodeMachine =
  (deps: ImportDeps) =>
  async (
    projectId: number,
    input: ImportCodeMachineInput,
    ctx: ChangeOrigin,
  ): Promise<ImportCodeMachineResult> => {
    const project = await authorizeProject(deps.repos, projectId, ctx)
    const problem = protocolNameProblem(input.protocolName)
    if (problem) throw new AppError('ORC_VALIDATION_FAILED', problem, { field: 'protocol_name' })
    const workspacePath = checkWorkspaceLocation(deps, project, input.workspacePath)
    const loaded = loadCodeMachineWorkspace(deps, workspacePath)
    return deps.uow.run(async (tx) => {
      await authorizeProject(tx, projectId, ctx)
      const run = await tx.runs.create({
        projectId,
        protocolName: input.protocolName,
        status: input.enqueue ? 'planning' : 'planned',
        baseBranch: input.baseBranch,
        worktreePath: workspacePath,
        protocolRoot: loaded.root,
        description: input.description,
      })
      if (!input.enqueue) {
        await recordImport(tx, run.id, 'planned', loaded, ctx)
        const stored = (await tx.runs.findById(run.id)) ?? run
        return { run: stored, job: null, message: 'Imported CodeMachine workspace.' }
      }
      const payload = { project_id: projectId, protocol_run_id: run.id, workspace_path: workspacePath }
      const scope = { projectId, protocolRunId: run.id }
      const job = await enqueueJob(tx.jobs, 'codemachine_import_job', payload, {
        scope,
        origin: ctx,
        policy: deps.jobPolicy,
      })
      await tx.events.append({
        projectId,
        protocolRunId: run.id,
        eventType: 'codemachine_import_enqueued',
        message: 'CodeMachine import enqueued.',
        metadata: withTrace({ job_id: job.id, workspace: workspacePath }, ctx),
      })
      return { run, job, message: 'Enqueued CodeMachine import job.' }
    })
  }

/**
 * The workspace as a real absolute path, when it lies inside the project's own folder (its
 * checkout; one folder per project, so never another project's clone beside it).
 */
const checkWorkspaceLocation = (deps: ImportDeps, project: Project, workspacePath: string): string => {
  const { real } = checkInsideProjectFolder(deps, project, workspacePath, 'workspace_path')
  if (!real)
    throw new AppError('ORC_WORKSPACE_NOT_FOUND', `Workspace ${workspacePath} does not exist`, {
      workspace_path: workspacePath,
    })
  return real
}
