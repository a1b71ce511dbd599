import type { JsonObject } from '../../domain/json.js'
import type { ProtocolStatus } from '../../domain/statuses.js'

import { withTrace, type ChangeOrigin } from '../context.js'
import { specMeta, syncStepRuns } from '../protocol/planning/plan-recording.js'
import type { Repositories } from '../ports.js'
import { specHash } from '../spec-hash.js'
import { changeRunStatus } from '../state-changes.js'
import type { LoadedCodeMachine } from './load-workspace.js'

export type ImportOutcome =
  | { readonly outcome: 'imported'; readonly stepsCreated: number }
  | { readonly outcome: 'blocked'; readonly errors: readonly string[] }
  | { readonly outcome: 'skipped'; readonly reason: string }

/**
 * Stores a loaded workspace on its run, in the caller's transaction, when the run is still in
 * `expected` (`planned` inline, `planning` from the job): `template_config` (the CodeMachine
 * payload, the spec, `spec_meta`) and `template_source`. A valid spec creates one pending step per
 * main agent and records `codemachine_imported` (a `planning` run becomes `planned`); an invalid
 * one records `spec_validation_error` and blocks the run, with no steps.
 */
export const recordImport = async (
  tx: Repositories,
  runId: number,
  expected: ProtocolStatus,
  loaded: LoadedCodeMachine,
  ctx: ChangeOrigin,
): Promise<ImportOutcome> => {
  const run = await tx.runs.findById(runId)
  if (!run || run.status !== expected)
    return { outcome: 'skipped', reason: `run is ${run?.status ?? 'gone'}` }
  const hash = specHash(loaded.spec)
  const patch = {
    templateConfig: {
      ...loaded.payload,
      protocol_spec: loaded.spec as unknown as JsonObject,
      spec_meta: specMeta(loaded.spec, loaded.errors),
    },
    templateSource: loaded.template,
  }
  if (loaded.errors.length > 0) {
    const metadata = { errors: [...loaded.errors], spec_hash: hash, workspace: loaded.workspacePath }
    const event = { type: 'spec_validation_error', message: 'CodeMachine spec validation failed.', metadata }
    await changeRunStatus(tx, run, 'block', { event, origin: ctx, patch })
    return { outcome: 'blocked', errors: loaded.errors }
  }
  const stepsCreated = await syncStepRuns(tx, run.id, loaded.spec, { summaryFromDescription: true })
  const metadata: JsonObject = {
    workspace: loaded.workspacePath,
    steps_created: stepsCreated,
    template: loaded.template,
    spec_hash: hash,
    spec_validated: true,
    unattached_modules: [...loaded.unattachedModules],
  }
  const event = {
    type: 'codemachine_imported',
    message: `Imported CodeMachine workspace with ${stepsCreated} step(s).`,
    metadata,
  }
  if (run.status === 'planning') await changeRunStatus(tx, run, 'plan_done', { event, origin: ctx, patch })
  else {
    await tx.runs.update(run.id, patch)
    await tx.events.append({
      projectId: run.projectId,
      protocolRunId: run.id,
      eventType: event.type,
      message: event.message,
      metadata: withTrace(metadata, ctx),
    })
  }
  return { outcome: 'imported', stepsCreated }
}
