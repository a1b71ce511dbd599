import { reviewStepBrief } from '../../../domain/review-feedback.js'
import { resolveStepPaths, type PathProbe, type ResolvedStepPaths } from '../../../domain/spec-paths.js'
import { findStepSpec, hasSpec, type ProtocolSpec, type StepSpec } from '../../../domain/spec.js'
import type { StepRun } from '../../../domain/step-run.js'
import type { WorktreeInfo } from '../../git.port.js'
import type { Repositories } from '../../ports.js'
import type { RunAndProject } from '../run-workspace.js'

/** A step with its run, project, and its spec (a default one when the run's spec names it not). */
export interface StepScope extends RunAndProject {
  readonly step: StepRun
  readonly spec: ProtocolSpec | undefined
  readonly stepSpec: StepSpec
}

/** The run's stored ProtocolSpec, if any. */
export const specOfRun = (run: RunAndProject['run']): ProtocolSpec | undefined => {
  const stored = run.templateConfig?.protocol_spec
  return hasSpec(stored) ? (stored as unknown as ProtocolSpec) : undefined
}

/** Reads a step and everything around it (one statement), or undefined when any of it is gone. */
export const readStepContext = async (tx: Repositories, stepId: number): Promise<StepScope | undefined> => {
  const loaded = await tx.steps.findWithRunAndProject(stepId)
  if (!loaded) return undefined
  const { step, run } = loaded
  const spec = specOfRun(run)
  return { ...loaded, spec, stepSpec: findStepSpec(spec, step.stepName) ?? defaultStepSpec(step) }
}

/** What a step without a spec entry runs: its own file as prompt, full QA. */
const defaultStepSpec = (step: StepRun): StepSpec => ({
  id: step.stepName.replace(/\.md$/, ''),
  name: step.stepName,
  engine_id: step.engineId,
  model: step.model,
  prompt_ref: step.stepName,
  qa: { policy: null },
  order: step.stepIndex,
})

/** The step's prompt and output paths in this worktree, or the errors that stop it. */
export const resolveStepFiles = (
  context: StepScope,
  worktree: WorktreeInfo,
  probe: PathProbe,
): ResolvedStepPaths | { readonly errors: readonly string[] } => {
  // A step appended for review comments has no step file: its brief stands in for the file.
  const own = `/${context.step.stepName}`
  const lenient: PathProbe =
    reviewStepBrief(context.step) === undefined
      ? probe
      : { exists: (path) => path.endsWith(own) || probe.exists(path) }
  return resolveStepPaths(
    context.stepSpec,
    context.spec,
    { protocolRoot: worktree.protocolRoot, workspace: worktree.path },
    lenient,
  )
}
