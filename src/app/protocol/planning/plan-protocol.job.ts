import { buildSpecFromStepFiles, hasSpec, type ProtocolSpec } from '../../../domain/spec.js'
import type { JsonObject } from '../../../domain/json.js'
import type { ChangeOrigin } from '../../context.js'
import type { ChangeEvent } from '../../state-changes.js'
import type { WorktreeInfo } from '../../git.port.js'
import { validateProtocolSpec } from '../../spec-validation.js'
import type { JobHandler } from '../../queue-runtime/job-handler.js'
import { PermanentJobError } from '../../queue-runtime/job-handler.js'
import { blockRun } from '../block-run.js'
import { commitMessage } from '../commit-message.js'
import { jobContext } from '../job-origin.js'
import { prepareWorkspace, readRunAndProject, type RunAndProject } from '../run-workspace.js'
import { decomposeSteps, type DecomposeOutcome } from './decompose-steps.js'
import { askPlanner, planningPrompt, type PlannerOutcome } from './planner-call.js'
import { recordPlan } from './plan-recording.js'
import { deferLimitedPlanning, recordPlanningResumed } from './planner-limit.js'
import { writePlanningFiles } from '../protocol-files.js'
import { loadPrompt } from '../prompt-templates.js'
import { leftOutMetadata } from '../execution/step-outcomes.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/**
 * plan_protocol_job: worktree, planning agent (one retry on an invalid answer), protocol files,
 * optional decomposition of the step files, validated spec, step runs, commit, and the run `planning → planned` (or blocked).
 */
export const createPlanProtocolHandler =
  (deps: ProtocolJobDeps): JobHandler<'plan_protocol_job'> =>
  async (payload, job): Promise<JsonObject> => {
    const ctx = jobContext(job.jobId)
    const loaded = await deps.uow.run((tx) => readRunAndProject(tx, payload.protocol_run_id))
    if (!loaded || loaded.run.status !== 'planning') return { skipped: 'run is not planning' }
    await recordPlanningResumed(deps, loaded, ctx)
    const workspace = await prepareWorkspace(deps, loaded, job.signal)
    if ('missing' in workspace) {
      const event = { type: 'repo_missing', message: workspace.missing }
      await deps.uow.run((tx) => blockRun(tx, loaded.run.id, event, ctx))
      return { outcome: 'blocked', reason: 'repo_missing' }
    }
    const worktree = workspace.ok
    const prompt = planningPrompt(deps.assets, loaded, worktree, workspace.repoPath)
    const planner = await askPlanner(deps, loaded, worktree, prompt, job.signal)
    if (planner.kind === 'limited') return deferLimitedPlanning(deps, loaded, planner.limit, ctx)
    if (planner.kind !== 'ok') return recordPlannerFailure(deps, loaded, planner, ctx)
    const stepFiles = writePlanningFiles(deps.files, worktree.path, worktree.protocolRoot, planner.output)
    const decomposed = await decomposeSteps(deps, loaded, worktree, stepFiles, job.signal)
    return finishPlan(deps, loaded, worktree, { planner, decomposed, origin: ctx, signal: job.signal })
  }

const finishPlan = async (
  deps: ProtocolJobDeps,
  { run }: RunAndProject,
  worktree: WorktreeInfo,
  {
    planner,
    decomposed,
    origin: ctx,
    signal,
  }: {
    readonly planner: Extract<PlannerOutcome, { kind: 'ok' }>
    readonly decomposed: DecomposeOutcome
    readonly origin: ChangeOrigin
    readonly signal: AbortSignal
  },
): Promise<JsonObject> => {
  const stored = run.templateConfig?.protocol_spec
  const spec: ProtocolSpec = hasSpec(stored)
    ? (stored as unknown as ProtocolSpec)
    : buildSpecFromStepFiles(deps.files.list(worktree.protocolRoot), { qaPolicy: 'full', engineId: null })
  const errors = validateProtocolSpec(deps.assets, spec, {
    roots: { protocolRoot: worktree.protocolRoot, workspace: worktree.path },
    probe: deps.files,
    engineIds: deps.engines.ids(),
  })
  const { sha, leftOut } = await deps.git.commitAll(
    worktree.path,
    commitMessage(run.protocolName, 0, `Plan ${run.protocolName}`),
    signal,
  )
  const result = {
    spec,
    errors,
    patch: {
      worktreePath: worktree.path,
      protocolRoot: worktree.protocolRoot,
      tokensUsed: run.tokensUsed + planner.tokens + decomposed.tokens,
      costUsd: run.costUsd + planner.costUsd + decomposed.costUsd,
    },
    metadata: {
      protocol_root: worktree.protocolRoot,
      branch: worktree.branch,
      commit: sha,
      ...leftOutMetadata(leftOut),
      engine_id: planner.call.engineId,
      model: planner.call.model,
      prompt_version: loadPrompt(deps.assets, 'plan').version,
      estimated_tokens: planner.call.estimate,
      ...decomposed.metadata,
    },
  }
  const outcome = await deps.uow.run((tx) => recordPlan(tx, run.id, result, ctx))
  return { outcome, commit: sha, spec_errors: errors }
}

const recordPlannerFailure = async (
  deps: ProtocolJobDeps,
  { run }: RunAndProject,
  planner: Exclude<PlannerOutcome, { kind: 'ok' | 'limited' }>,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  const event: ChangeEvent =
    planner.kind === 'invalid'
      ? {
          type: 'planning_failed',
          message: 'The planner gave no valid answer in two tries.',
          metadata: { errors: [...planner.errors] },
        }
      : planner.kind === 'budget'
        ? {
            type: 'budget_exceeded',
            message: planner.message,
            metadata: { phase: 'plan', estimated_tokens: planner.estimate },
          }
        : {
            type: planner.failure.eventType,
            message: planner.failure.message,
            metadata: planner.failure.metadata,
          }
  await deps.uow.run((tx) => blockRun(tx, run.id, event, ctx))
  if (planner.kind === 'budget') throw new PermanentJobError(planner.message, 'budget')
  return { outcome: 'blocked', reason: event.type }
}
