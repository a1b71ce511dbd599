import type { Static } from '@sinclair/typebox'
import type { EventWithContext } from '../../domain/event.js'
import { redactUrlsInText } from '../../domain/git-url.js'
import type { Job } from '../../domain/job.js'
import type { Project } from '../../domain/project.js'
import type { ProtocolRun } from '../../domain/protocol-run.js'
import type { StepRun } from '../../domain/step-run.js'
import { summarizeSpec } from '../../app/protocols/spec-summary.js'
import type { JobOut } from './schemas/common.schema.js'
import type { EventOut } from './schemas/event.schema.js'
import type { ProjectOut } from './schemas/project.schema.js'
import type { ProtocolRunOut, StepRunOut } from './schemas/protocol.schema.js'

/** Write-only secrets: the names of configured keys are shown, never a value. */
const MASK = '********'

export const toProjectOut = (project: Project): Static<typeof ProjectOut> => ({
  id: project.id,
  name: project.name,
  // A URL stored before credentials were refused must not echo them.
  git_url: redactUrlsInText(project.gitUrl),
  local_path: project.localPath,
  base_branch: project.baseBranch,
  ci_provider: project.ciProvider,
  default_models: project.defaultModels,
  engines: project.engines === null ? null : project.engines.map(({ engine, model }) => ({ engine, model })),
  secrets:
    project.secretKeys.length === 0 ? null : Object.fromEntries(project.secretKeys.map((k) => [k, MASK])),
  has_api_token: project.hasApiToken,
  clarifications: project.clarifications,
  review_mode: project.reviewMode,
  created_at: project.createdAt,
  updated_at: project.updatedAt,
})

export const toRunOut = (run: ProtocolRun): Static<typeof ProtocolRunOut> => {
  const spec = summarizeSpec(run)
  return {
    id: run.id,
    project_id: run.projectId,
    protocol_name: run.protocolName,
    status: run.status,
    base_branch: run.baseBranch,
    branch_name: run.branchName,
    worktree_path: run.worktreePath,
    protocol_root: run.protocolRoot,
    description: run.description,
    template_config: run.templateConfig,
    template_source: run.templateSource,
    pr_url: run.prUrl,
    pr_number: run.prNumber,
    tokens_used: run.tokensUsed,
    cost: run.costUsd,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    spec_hash: spec.specHash,
    spec_validation_status: spec.validationStatus,
    spec_validated_at: spec.validatedAt,
  }
}

export const toStepOut = (step: StepRun): Static<typeof StepRunOut> => ({
  id: step.id,
  protocol_run_id: step.protocolRunId,
  step_index: step.stepIndex,
  step_name: step.stepName,
  step_type: step.stepType,
  status: step.status,
  retries: step.retries,
  model: step.model,
  engine_id: step.engineId,
  engines: step.engines === null ? null : step.engines.map(({ engine, model }) => ({ engine, model })),
  policy: step.policy,
  runtime_state: step.runtimeState,
  summary: step.summary,
  tokens_used: step.tokensUsed,
  cost: step.costUsd,
  head_sha: step.headSha,
  created_at: step.createdAt,
  updated_at: step.updatedAt,
})

export const toEventOut = (event: EventWithContext): Static<typeof EventOut> => ({
  id: event.id,
  protocol_run_id: event.protocolRunId,
  step_run_id: event.stepRunId,
  event_type: event.eventType,
  message: event.message,
  created_at: event.createdAt,
  metadata: event.metadata,
  protocol_name: event.protocolName,
  project_id: event.projectId,
  project_name: event.projectName,
})

const epochSeconds = (iso: string): number => Date.parse(iso) / 1000
const epochOrNull = (iso: string | null): number | null => (iso === null ? null : epochSeconds(iso))

/** The original job shape, with real attempts and next-run times. */
export const toJobOut = (job: Job): Static<typeof JobOut> => ({
  job_id: job.id,
  job_type: job.type,
  payload: job.payload,
  status: job.status,
  queue: job.queue,
  created_at: epochSeconds(job.createdAt),
  attempts: job.attempts,
  max_attempts: job.maxAttempts,
  next_run_at: epochSeconds(job.nextRunAt),
  started_at: epochOrNull(job.startedAt),
  ended_at: epochOrNull(job.endedAt),
  result: job.result,
  error: job.error,
  meta: job.meta,
})

export const toActionReply = (result: { message: string; job: Job | null }) => ({
  message: result.message,
  job: result.job === null ? null : toJobOut(result.job),
})
