import { join } from 'node:path'
import type { JsonObject } from '../../../domain/json.js'
import type { StepRun } from '../../../domain/step-run.js'
import { parseVerdict } from '../../../domain/verdict.js'
import type { ChangeOrigin } from '../../context.js'
import type { WorktreeInfo } from '../../git.port.js'
import { applySuccessPolicies, policyDepsOf } from '../../policies.js'
import type { Repositories } from '../../ports.js'
import { maybeCompleteProtocol } from '../../steps/complete-protocol.js'
import type { EngineCallOutcome } from '../execution/engine-call.js'
import type { StepScope } from '../execution/step-context.js'
import { failStepLoopOrBlock, moveStepWithRun } from '../execution/step-outcomes.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { qaOutcomeWords } from './inline-qa.js'
import { rememberQaFailure } from './qa-failure.js'

export interface VerdictInput {
  readonly context: StepScope
  readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
  readonly worktree: WorktreeInfo
  readonly inline: boolean
}

/** Writes the report, counts the verdict, and completes or fails the step in one transaction. */
export const recordVerdict = async (
  deps: ProtocolJobDeps,
  { context, call, worktree, inline }: VerdictInput,
  ctx: ChangeOrigin,
): Promise<JsonObject> => {
  const report = call.result.outputText
  const { path: workspace, protocolRoot } = worktree
  const reportText = report.endsWith('\n') ? report : `${report}\n`
  deps.files.writeText(workspace, join(protocolRoot, 'quality-report.md'), reportText)
  const verdict = parseVerdict(report)
  const words = qaOutcomeWords(verdict.verdict, inline)
  const line = `${context.step.stepName}: ${words.summary} (${call.model ?? call.engineId}).`
  deps.files.writeText(
    workspace,
    join(protocolRoot, 'log.md'),
    `\n- ${new Date().toISOString()} ${line}\n`,
    true,
  )
  deps.counters.qaVerdict(verdict.verdict)
  const tokens = call.promptTokens + call.completionTokens
  const metadata: JsonObject = {
    verdict: verdict.verdict,
    verdict_line: verdict.line,
    report: reportForEvent(report),
    inline,
    engine_id: call.engineId,
    model: call.model,
  }
  const runUsage = { tokens, costUsd: call.result.costUsd ?? 0 }
  await deps.uow.run(async (tx) => {
    const stale = await verdictIsStale(tx, context, metadata, ctx)
    const pass = !stale && verdict.verdict === 'PASS'
    // A PASS's move adds what the call spent; every other outcome adds it on its own.
    if (!pass) await tx.runs.addUsage(context.run.id, runUsage.tokens, runUsage.costUsd)
    if (stale) return
    if (pass) {
      const event = { type: words.type, message: words.message, metadata }
      const moved = await moveStepWithRun(tx, context.step.id, 'complete', {
        event,
        origin: ctx,
        patch: { summary: words.summary },
        runUsage,
      })
      if (moved?.step.status === 'completed')
        await applySuccessPolicies(tx, policyDepsOf(deps), moved, 'qa_passed', ctx)
      await maybeCompleteProtocol(tx, context.run.id, ctx)
    } else {
      await rememberQaFailure(tx, context.step.id, report)
      const event = { type: words.type, message: words.message, metadata }
      await failStepLoopOrBlock(tx, policyDepsOf(deps), context.step.id, {
        event,
        reason: 'qa_failed',
        origin: ctx,
      })
    }
  })
  return { outcome: verdict.verdict === 'PASS' ? 'completed' : 'failed', verdict: verdict.verdict }
}

/**
 * A verdict judges the step as it was when QA began. If the step has left `needs_qa` since (reset
 * and re-run by a policy, judged by another QA job, cancelled), or is back in `needs_qa` with
 * another head (executed again meanwhile), the verdict is recorded and moves nothing.
 */
const verdictIsStale = async (
  tx: Repositories,
  context: StepScope,
  metadata: JsonObject,
  ctx: ChangeOrigin,
): Promise<boolean> => {
  const step = await tx.steps.findById(context.step.id)
  if (step?.status === 'needs_qa' && step.headSha === context.step.headSha) return false
  await tx.events.append({
    projectId: context.run.projectId,
    protocolRunId: context.run.id,
    stepRunId: context.step.id,
    eventType: 'qa_verdict_discarded',
    message: `QA verdict ${String(metadata.verdict)} discarded: ${stepNow(step)}.`,
    metadata: {
      ...metadata,
      judged_head_sha: context.step.headSha,
      ...(ctx.jobId ? { job_id: ctx.jobId } : {}),
    },
  })
  return true
}

const stepNow = (step: StepRun | undefined): string =>
  !step
    ? 'the step is gone'
    : step.status === 'needs_qa'
      ? `the step was executed again since (head ${step.headSha ?? 'none'})`
      : `the step is ${step.status} now`

/** Enough of the report for the console and CLI to show it, bounded so an event stays small. */
const REPORT_EVENT_CHARS = 20_000

/**
 * `quality-report.md` is overwritten by the next step's QA, so the event keeps this step's copy.
 */
const reportForEvent = (report: string): string =>
  report.length <= REPORT_EVENT_CHARS
    ? report
    : `${report.slice(0, REPORT_EVENT_CHARS)}\n\n… (truncated; ${report.length} characters in all)\n`
