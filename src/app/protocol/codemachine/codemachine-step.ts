import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { withSpecification, type CodeMachineStepPaths } from '../../../domain/codemachine/step-paths.js'
import type { CodeMachineAgent } from '../../../domain/codemachine/workspace-config.js'
import type { JsonObject } from '../../../domain/json.js'
import { qaPolicyOf } from '../../../domain/spec.js'
import type { ChangeOrigin } from '../../context.js'
import { isPathOutsideWorkspace, PATH_OUTSIDE_WORKSPACE, type ContainedFiles } from '../../contained-files.js'
import { specHash } from '../../spec-hash.js'
import { codeMachineStepPaths, findCodeMachineAgent } from './codemachine-paths.js'
import { callEngine, type EngineCallOutcome } from '../execution/engine-call.js'
import type { JobAttempt } from '../../queue-runtime/job-handler.js'
import { PermanentJobError } from '../../queue-runtime/job-handler.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { runQualityCheck } from '../qa/quality-check.js'
import type { StepScope } from '../execution/step-context.js'
import { recordInTransaction } from '../execution/step-execution.js'
import { failStepAndBlockRun, failStepLoopOrBlock } from '../execution/step-outcomes.js'
import { policyDepsOf } from '../../policies.js'

/**
 * Executes a claimed CodeMachine step (CM-7…CM-12): the agent named by the step, its prompt with
 * placeholders expanded and the workspace's specification appended, run through the engine
 * registry in the workspace. The answer goes to `.protocols/<protocol>/<step>.md` and the aux
 * outputs; no git. Then `codemachine_step_completed` and the QA hand-off of the step's policy
 * (`skip` → completed). Any failure is `codemachine_step_failed`: step failed, run blocked.
 */
export const executeCodeMachineStep = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  job: JobAttempt,
  logPath: string,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  const prepared = prepare(deps.files, context)
  if ('error' in prepared)
    return fail(deps, context, prepared.error, { metadata: { cause: prepared.cause }, origin: ctx })
  const { agent, workspace, paths, prompt } = prepared
  const call = await callEngine(deps, {
    ...context,
    stepRun: context.step,
    stepSpec: {
      ...context.stepSpec,
      engine_id: context.stepSpec.engine_id ?? agent.engine_id,
      model: context.stepSpec.model ?? agent.model,
    },
    phase: 'execute',
    prompt,
    workingDir: workspace,
    logPath,
    signal: job.signal,
    label: `step ${context.step.stepName}`,
  })
  if (call.kind !== 'done' || !call.result.success) return afterFailedCall(deps, context, call, ctx)
  return record(deps, { context, agent, workspace, paths, call, job, ctx })
}

type Prepared =
  | { agent: CodeMachineAgent; workspace: string; paths: CodeMachineStepPaths; prompt: string }
  | { error: string; cause: string }

const prepare = (files: ContainedFiles, context: StepScope): Prepared => {
  const workspace = context.run.worktreePath
  if (!workspace || !files.isDirectory(workspace))
    return { error: `CodeMachine workspace ${workspace ?? '(none)'} is missing`, cause: 'repo_missing' }
  const root = context.run.protocolRoot ?? join(workspace, '.codemachine')
  const agent = findCodeMachineAgent(context)
  if (!agent) return { error: 'CodeMachine agent not found', cause: 'agent_missing' }
  const paths = codeMachineStepPaths(context, agent, workspace, files)
  if ('error' in paths)
    return { error: `Spec validation failed: ${paths.error}`, cause: 'spec_validation_error' }
  return refusedAsFailure(() => {
    const specification = files.readText(workspace, join(root, 'inputs', 'specifications.md'), NO_FILE)
    const prompt = files.readText(workspace, paths.promptPath)
    const spec = specification === NO_FILE ? undefined : specification
    return { agent, workspace, paths, prompt: withSpecification(prompt, spec) }
  })
}

/** Marks a file that is absent, as opposed to one that is empty. */
const NO_FILE = '\0absent'

/** Runs `work`; a path leading outside the workspace becomes a step failure naming it. */
const refusedAsFailure = <T>(work: () => T): T | { error: string; cause: string } => {
  try {
    return work()
  } catch (error) {
    if (!isPathOutsideWorkspace(error)) throw error
    return {
      error: `Refused: ${error.message}`,
      cause: String(error.details?.cause ?? PATH_OUTSIDE_WORKSPACE),
    }
  }
}

const afterFailedCall = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  call: EngineCallOutcome,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  if (call.kind === 'budget') {
    await fail(deps, context, call.message, {
      metadata: { cause: 'budget_exceeded', estimated_tokens: call.estimate },
      origin: ctx,
    })
    throw new PermanentJobError(call.message, 'budget')
  }
  if (call.kind === 'failed')
    return fail(deps, context, call.failure.message, {
      metadata: { cause: call.failure.eventType, ...call.failure.metadata },
      origin: ctx,
      reason: 'exec_failed',
    })
  const exitCode = call.kind === 'done' ? call.result.exitCode : null
  return fail(deps, context, `Execution error: the engine exited with ${String(exitCode)}`, {
    metadata: { cause: 'step_execution_failed', exit_code: exitCode },
    origin: ctx,
    reason: 'exec_failed',
  })
}

const fail = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  message: string,
  {
    metadata,
    origin: ctx,
    reason,
  }: { readonly metadata: JsonObject; readonly origin: ChangeOrigin; readonly reason?: 'exec_failed' },
): Promise<JsonObject> => {
  const event = {
    type: 'codemachine_step_failed',
    message,
    metadata: {
      ...metadata,
      step_name: context.step.stepName,
      template: context.run.templateConfig?.template ?? null,
    },
  }
  // Only an engine failure may loop; setup problems would fail the same way again.
  await deps.uow.run((tx) =>
    reason
      ? failStepLoopOrBlock(tx, policyDepsOf(deps), context.step.id, { event, reason, origin: ctx })
      : failStepAndBlockRun(tx, context.step.id, event, ctx),
  )
  return { outcome: 'failed', reason: String(metadata.cause ?? 'codemachine_step_failed') }
}

interface Recorded {
  readonly context: StepScope
  readonly agent: CodeMachineAgent
  readonly workspace: string
  readonly paths: CodeMachineStepPaths
  readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
  readonly job: JobAttempt
  readonly ctx: ChangeOrigin
}

const record = async (deps: ProtocolJobDeps, input: Recorded): Promise<JsonObject> => {
  const { context, agent, paths, call, job, ctx } = input
  const written = refusedAsFailure(() => writeOutputs(deps.files, input))
  if ('error' in written)
    return fail(deps, context, written.error, { metadata: { cause: written.cause }, origin: ctx })
  const { outputs, promptText } = written
  const policy = qaPolicyOf(context.stepSpec)
  const metadata: JsonObject = {
    protocol_run_id: context.run.id,
    step_run_id: context.step.id,
    agent_id: agent.id,
    engine_id: call.engineId,
    model: call.model,
    estimated_tokens: { exec: call.estimate },
    prompt_path: paths.promptPath,
    prompt_versions: {
      exec: createHash('sha256').update(promptText).digest('hex').slice(0, 12),
    },
    outputs: { protocol: paths.outputs.protocol, aux: { ...paths.outputs.aux } },
    outputs_written: outputs,
    spec_hash: specHash(context.spec),
    spec_validated: true,
  }
  const outcome = await deps.uow.run(async (tx) => {
    if ((await tx.steps.findById(context.step.id))?.status !== 'running') return 'skipped'
    await tx.events.append({
      projectId: context.run.projectId,
      protocolRunId: context.run.id,
      stepRunId: context.step.id,
      eventType: 'codemachine_step_completed',
      message: `CodeMachine agent ${agent.id} executed.`,
      metadata: { ...metadata, ...(ctx.jobId ? { job_id: ctx.jobId } : {}) },
    })
    return recordInTransaction(deps, tx, { context, call, ctx }, { headSha: null, policy })
  })
  if (outcome === 'needs_qa' && policy === 'light') {
    const qa = await runQualityCheck(deps, context.step.id, job, true)
    return { outcome: 'executed', qa }
  }
  return { outcome, qa_policy: policy, outputs }
}

/** Writes the answer to the step's outputs and the protocol log, every path checked as it is used. */
const writeOutputs = (
  files: ContainedFiles,
  input: Recorded,
): { outputs: JsonObject; promptText: string } => {
  const { context, agent, workspace, paths, call } = input
  const text = call.result.outputText
  const outputs: JsonObject = {}
  if (text.trim() !== '') {
    const answer = text.endsWith('\n') ? text : `${text}\n`
    files.writeText(workspace, paths.outputs.protocol, answer)
    outputs.protocol = paths.outputs.protocol
    for (const [key, path] of Object.entries(paths.outputs.aux)) {
      files.writeText(workspace, path, answer)
      outputs[`aux.${key}`] = path
    }
  }
  const line = `${context.step.stepName} executed via CodeMachine agent ${agent.id} (${call.engineId}).`
  const log = join(workspace, '.protocols', context.run.protocolName, 'log.md')
  files.writeText(workspace, log, `\n- ${new Date().toISOString()} ${line}\n`, true)
  return { outputs, promptText: files.readText(workspace, paths.promptPath) }
}
