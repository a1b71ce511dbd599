import { join } from 'node:path'
import { isAppError } from '../../domain/app-error.js'
import type { Project } from '../../domain/project.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { ContainedFiles } from '../contained-files.js'
import type { WorktreeInfo } from '../git.port.js'
import type { Repositories } from '../ports.js'
import type { ProtocolJobDeps } from './protocol-job-deps.js'

export interface RunAndProject {
  readonly run: ProtocolRun
  readonly project: Project
}

/** The run and its project (one read), or undefined when the run is gone. */
export const readRunAndProject = (
  tx: Pick<Repositories, 'runs'>,
  runId: number,
): Promise<RunAndProject | undefined> => tx.runs.findWithProject(runId)

export type WorkspaceOutcome =
  { readonly ok: WorktreeInfo; readonly repoPath: string } | { readonly missing: string }

/**
 * The project's checkout (cloned when allowed) and the run's worktree. A checkout that is absent
 * and may not be cloned is `missing`; other git failures throw, so the job is retried.
 */
export const prepareWorkspace = async (
  deps: ProtocolJobDeps,
  { run, project }: RunAndProject,
  signal: AbortSignal,
): Promise<WorkspaceOutcome> => {
  let repoPath: string
  try {
    const source = { gitUrl: project.gitUrl, localPath: project.localPath }
    repoPath = await deps.git.ensureRepo(source, { clone: deps.config.repos.autoClone }, signal)
  } catch (error) {
    if (isAppError(error) && error.code === 'ORC_REPO_NOT_PRESENT') return { missing: error.message }
    throw error
  }
  const request = { repoPath, protocolName: run.protocolName, baseBranch: run.baseBranch }
  return { ok: await deps.git.ensureWorktree(request, signal), repoPath }
}

/**
 * A CodeMachine run's imported workspace as it is (no clone, no worktree, no git writes), with
 * `.protocols/<name>` as its protocol root; `missing` when the folder is gone.
 */
export const codeMachineWorkspace = (
  files: Pick<ContainedFiles, 'isDirectory'>,
  run: ProtocolRun,
): WorkspaceOutcome => {
  const path = run.worktreePath
  if (!path || !files.isDirectory(path))
    return { missing: `CodeMachine workspace ${path ?? '(none)'} is missing` }
  const protocolRoot = join(path, '.protocols', run.protocolName)
  return { ok: { path, branch: run.protocolName, protocolRoot, created: false }, repoPath: path }
}
