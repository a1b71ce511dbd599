import { join } from 'node:path'
import { isAppError } from '../../domain/app-error.js'
import type { JsonObject } from '../../domain/json.js'
import type { Project } from '../../domain/project.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import { canProtocol } from '../../domain/transitions.js'
import type { ContainedFiles } from '../contained-files.js'
import type { ChangeOrigin } from '../context.js'
import type { WorktreeInfo } from '../git.port.js'
import type { Repositories } from '../ports.js'
import { changeRunStatus, type ChangeEvent } from '../state-changes.js'
import type { ProtocolJobDeps } from './protocol-job-deps.js'

/** The context a job's writes are traced with. */
export const jobContext = (jobId: string): ChangeOrigin => ({ jobId })

/** `NNNN` of `NNNN-short-name` (the part before the first dash). */
export const protocolNumber = (protocolName: string): string => protocolName.split('-')[0] ?? protocolName

/** `[protocol-NNNN/SS] subject`: the commit message convention of protocol work. */
export const commitMessage = (protocolName: string, stepIndex: number | string, subject: string): string =>
  `[protocol-${protocolNumber(protocolName)}/${String(stepIndex).padStart(2, '0')}] ${subject}`

export interface RunAndProject {
  readonly run: ProtocolRun
  readonly project: Project
}

/** The run and its project, or undefined when either is gone. */
export const readRunAndProject = async (
  tx: Pick<Repositories, 'runs' | 'projects'>,
  runId: number,
): Promise<RunAndProject | undefined> => {
  const run = await tx.runs.findById(runId)
  const project = run && (await tx.projects.findById(run.projectId))
  return run && project ? { run, project } : undefined
}

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

/** Blocks the run (re-read in this transaction) when the table allows it; records the event either way. */
export const blockRun = async (
  tx: Pick<Repositories, 'runs' | 'events'>,
  runId: number,
  event: ChangeEvent,
  ctx: ChangeOrigin,
): Promise<void> => {
  const run = await tx.runs.findById(runId)
  if (!run) return
  if (canProtocol(run.status, 'block')) {
    await changeRunStatus(tx, run, 'block', { event, origin: ctx })
    return
  }
  await tx.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    eventType: event.type,
    message: event.message,
    metadata: { ...event.metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
}

/** Engine failures a job records as a step/run outcome instead of retrying. */
export interface EngineFailure {
  readonly eventType: 'engine_unavailable' | 'engine_timeout' | 'engine_error'
  readonly message: string
  readonly metadata: JsonObject
}

/**
 * Classifies an engine error: a missing binary, a timeout or an unregistered engine are
 * outcomes; cancellation and anything else are rethrown (the queue retries or stops the job).
 */
export const engineFailure = (error: unknown): EngineFailure => {
  if (!isAppError(error) || error.code === 'ORC_ENGINE_CANCELLED') throw error
  const binary = typeof error.details?.binary === 'string' ? error.details.binary : null
  if (error.code === 'ORC_ENGINE_UNAVAILABLE')
    return { eventType: 'engine_unavailable', message: error.message, metadata: { binary } }
  if (error.code === 'ORC_ENGINE_TIMEOUT')
    return { eventType: 'engine_timeout', message: error.message, metadata: { binary } }
  if (error.code === 'ORC_ENGINE_NOT_REGISTERED' || error.code === 'ORC_ENGINE_EXITED')
    return { eventType: 'engine_error', message: error.message, metadata: { code: error.code } }
  throw error
}

/** The JSON object at `key` of a JSON object, or an empty one. */
export const objectAt = (value: JsonObject | null | undefined, key: string): JsonObject => {
  const found = value?.[key]
  return found !== null && typeof found === 'object' && !Array.isArray(found) ? found : {}
}
