import { isAppError } from '../../../domain/app-error.js'
import { redactGitUrl, redactUrlsInText } from '../../../domain/git-url.js'
import type { JsonObject } from '../../../domain/json.js'
import { canProtocol } from '../../../domain/transitions.js'
import type { ChangeOrigin } from '../../context.js'
import type { Repositories } from '../../ports.js'
import { changeRunStatus, type ChangeEvent } from '../../state-changes.js'
import { PermanentJobError, type JobHandler, type JobAttempt } from '../../queue-runtime/job-handler.js'
import { blockRun } from '../block-run.js'
import { jobContext } from '../job-origin.js'
import { readRunAndProject, type RunAndProject } from '../run-workspace.js'
import { hasAnswers, ONBOARDING_QUESTIONS, questionsMetadata } from './onboarding-questions.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { writeStarterAssets, type StarterAssetsDeps } from './starter-assets.js'

/**
 * project_setup_job: locates (or, here only, clones) the checkout, records its path, optionally
 * writes starter assets, asks the onboarding questions, and completes the setup run — or blocks
 * it until the repository is present or, when required, the clarifications are answered.
 */
export const createProjectSetupHandler =
  (deps: ProtocolJobDeps): JobHandler<'project_setup_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const started = await deps.uow.run((tx) => start(tx, payload.protocol_run_id, ctx))
    if ('skipped' in started) return started
    try {
      return await onboard(deps, started, job, ctx)
    } catch (error) {
      // A refused URL stays refused: fail now instead of retrying what git will never be given.
      const refused = isAppError(error) && error.code === 'ORC_GIT_URL_REFUSED'
      if (refused || job.attempt >= job.maxAttempts) {
        const event = {
          type: 'setup_failed',
          message: 'Project setup failed.',
          metadata: { error: redactUrlsInText(String(error)) },
        }
        await deps.uow.run((tx) => failRun(tx, started.run.id, event, ctx))
      }
      if (refused) throw new PermanentJobError(error.message, 'validation')
      throw error
    }
  }

const start = async (
  tx: Repositories,
  runId: number,
  ctx: ChangeOrigin,
): Promise<RunAndProject | { skipped: string }> => {
  const loaded = await readRunAndProject(tx, runId)
  if (!loaded || !['pending', 'running'].includes(loaded.run.status))
    return { skipped: 'setup run is not pending or running' }
  const { project, run } = loaded
  const metadata = { git_url: redactGitUrl(project.gitUrl), local_path: project.localPath }
  const event = { type: 'setup_started', message: `Onboarding ${project.name}`, metadata }
  const current =
    run.status === 'pending' ? await changeRunStatus(tx, run, 'run', { event, origin: ctx }) : run
  if (run.status !== 'pending') await note(tx, loaded, event, ctx)
  return { project, run: current }
}

const onboard = async (deps: ProtocolJobDeps, loaded: RunAndProject, job: JobAttempt, ctx: ChangeOrigin) => {
  const { project, run } = loaded
  const source = { gitUrl: project.gitUrl, localPath: project.localPath }
  const before = deps.git.locateRepo(source)
  let repoPath: string
  try {
    repoPath = await deps.git.ensureRepo(source, { clone: deps.config.repos.autoClone }, job.signal)
  } catch (error) {
    if (!isAppError(error) || !['ORC_REPO_NOT_PRESENT', 'ORC_GIT_FAILED'].includes(error.code)) throw error
    await deps.uow.run((tx) =>
      repoProblem(tx, loaded, error.code === 'ORC_REPO_NOT_PRESENT', before.path, ctx),
    )
    return { outcome: 'blocked', reason: 'repository' }
  }
  const events: ChangeEvent[] = []
  if (!before.exists)
    events.push({ type: 'setup_cloned', message: `Cloned into ${repoPath}.`, metadata: { path: repoPath } })
  if (deps.config.onboarding.writeAssets) events.push(writeAssets(deps, repoPath))
  const hasOrigin = await deps.git.hasOrigin(repoPath, job.signal)
  events.push({
    type: 'setup_git_remote',
    message: `Git origin ${hasOrigin ? 'present' : 'absent'} (ssh=${deps.config.repos.ghSsh}).`,
    metadata: { origin: hasOrigin },
  })
  const blocking = deps.config.onboarding.requireClarifications
  events.push({
    type: 'setup_clarifications',
    message: 'Review onboarding clarifications and confirm settings.',
    metadata: questionsMetadata(blocking),
  })
  return deps.uow.run(async (tx): Promise<JsonObject> => {
    if (project.localPath !== repoPath) {
      await tx.projects.update(project.id, { localPath: repoPath })
      await note(
        tx,
        loaded,
        {
          type: 'setup_local_path_recorded',
          message: `Checkout recorded at ${repoPath}.`,
          metadata: { local_path: repoPath },
        },
        ctx,
      )
    }
    for (const event of events) await note(tx, loaded, event, ctx)
    const fresh = await tx.projects.findById(project.id)
    if (blocking && !hasAnswers(fresh?.clarifications ?? null)) {
      const metadata = { questions: ONBOARDING_QUESTIONS.map((q) => q.key) }
      await blockRun(
        tx,
        run.id,
        { type: 'setup_blocked', message: 'Awaiting onboarding clarification responses.', metadata },
        ctx,
      )
      return { outcome: 'blocked', reason: 'clarifications' }
    }
    const current = await tx.runs.findById(run.id)
    if (current && canProtocol(current.status, 'complete'))
      await changeRunStatus(tx, current, 'complete', {
        event: { type: 'setup_completed', message: 'Project setup job finished.' },
        origin: ctx,
      })
    return { outcome: 'completed', local_path: repoPath }
  })
}

const repoProblem = async (
  tx: Repositories,
  loaded: RunAndProject,
  notPresent: boolean,
  path: string,
  ctx: ChangeOrigin,
) => {
  const { project, run } = loaded
  if (notPresent) {
    const metadata = {
      git_url: redactGitUrl(project.gitUrl),
      local_path: project.localPath,
      expected_path: path,
    }
    await note(
      tx,
      loaded,
      { type: 'setup_pending_clone', message: 'Repository not present; cloning is off.', metadata },
      ctx,
    )
    await blockRun(
      tx,
      run.id,
      { type: 'setup_blocked', message: 'Setup blocked until repository is present.' },
      ctx,
    )
  } else
    await blockRun(tx, run.id, { type: 'setup_clone_failed', message: 'Cloning the repository failed.' }, ctx)
}

const writeAssets = (deps: StarterAssetsDeps, repoPath: string): ChangeEvent => {
  try {
    const { written, kept } = writeStarterAssets(deps, repoPath)
    return {
      type: 'setup_assets',
      message: `Starter assets: ${written.length} written, ${kept.length} already present.`,
      metadata: { path: repoPath, files: written, kept },
    }
  } catch (error) {
    const message = `Skipped asset provisioning: ${error instanceof Error ? error.message : String(error)}`
    return { type: 'setup_warning', message, metadata: { path: repoPath } }
  }
}

const failRun = async (tx: Repositories, runId: number, event: ChangeEvent, ctx: ChangeOrigin) => {
  const run = await tx.runs.findById(runId)
  if (run && canProtocol(run.status, 'fail')) await changeRunStatus(tx, run, 'fail', { event, origin: ctx })
}

const note = (tx: Repositories, { run }: RunAndProject, event: ChangeEvent, ctx: ChangeOrigin) =>
  tx.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    eventType: event.type,
    message: event.message,
    metadata: { ...event.metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
  })
