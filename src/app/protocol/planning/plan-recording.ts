import type { JsonObject } from '../../../domain/json.js'
import type { ProtocolRun, ProtocolRunPatch } from '../../../domain/protocol-run.js'
import { inferStepType, stepNameOf, type ProtocolSpec } from '../../../domain/spec.js'
import type { ChangeOrigin } from '../../context.js'
import type { Repositories } from '../../ports.js'
import { specHash } from '../../spec-hash.js'
import { changeRunStatus } from '../../state-changes.js'

/** `template_config.spec_meta` after a validation. */
export const specMeta = (spec: ProtocolSpec, errors: readonly string[]): JsonObject => ({
  status: errors.length === 0 ? 'valid' : 'invalid',
  errors: [...errors],
  validated_at: new Date().toISOString(),
  spec_hash: specHash(spec),
})

/** The run's template_config with the spec and its validation state. */
export const withSpec = (run: ProtocolRun, spec: ProtocolSpec, errors: readonly string[]): JsonObject => ({
  ...run.templateConfig,
  protocol_spec: spec as unknown as JsonObject,
  spec_meta: specMeta(spec, errors),
})

/**
 * Creates one StepRun per spec step whose name the run does not have yet; returns how many. An
 * import (CodeMachine) also shows each step's description as its summary.
 */
export const syncStepRuns = async (
  tx: Pick<Repositories, 'steps'>,
  runId: number,
  spec: ProtocolSpec,
  options: { readonly summaryFromDescription?: boolean } = {},
): Promise<number> => {
  const existing = new Set((await tx.steps.listByRun(runId)).map((step) => step.stepName))
  let created = 0
  for (const [index, step] of spec.steps.entries()) {
    const name = stepNameOf(step, index)
    if (existing.has(name)) continue
    await tx.steps.create({
      protocolRunId: runId,
      stepIndex: index,
      stepName: name,
      stepType: step.step_type ?? inferStepType(name),
      status: 'pending',
      model: step.model ?? null,
      engineId: step.engine_id,
      policy: step.policies ? [...step.policies] : null,
      ...(options.summaryFromDescription ? { summary: step.description ?? null } : {}),
    })
    created++
  }
  return created
}

export interface PlanResult {
  readonly spec: ProtocolSpec
  readonly errors: readonly string[]
  readonly patch: ProtocolRunPatch
  readonly metadata: JsonObject
}

/**
 * Records a finished planning in one transaction, if the run is still planning: an invalid spec
 * blocks the run with one `spec_validation_error` per error; a valid one creates the steps and
 * moves the run to `planned`.
 */
export const recordPlan = async (
  tx: Repositories,
  runId: number,
  result: PlanResult,
  ctx: ChangeOrigin,
): Promise<string> => {
  const run = await tx.runs.findById(runId)
  if (!run || run.status !== 'planning') return 'skipped'
  const patch = { ...result.patch, templateConfig: withSpec(run, result.spec, result.errors) }
  if (result.errors.length > 0) {
    for (const error of result.errors)
      await tx.events.append({
        projectId: run.projectId,
        protocolRunId: run.id,
        eventType: 'spec_validation_error',
        message: error,
        metadata: { job_id: ctx.jobId ?? null, spec_hash: specHash(result.spec) },
      })
    const event = { type: 'planning_blocked', message: 'Protocol spec is invalid; planning stopped.' }
    await changeRunStatus(tx, run, 'block', { event, origin: ctx, patch })
    return 'blocked'
  }
  const created = await syncStepRuns(tx, run.id, result.spec)
  const metadata = {
    ...result.metadata,
    steps_created: created,
    spec_hash: specHash(result.spec),
    spec_validated: true,
  }
  await changeRunStatus(tx, run, 'plan_done', {
    event: { type: 'planned', message: 'Protocol planned.', metadata },
    origin: ctx,
    patch,
  })
  return 'planned'
}
