import type { ChangeOrigin } from '../../context.js'
import { appendProtocolLog } from '../protocol-files.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import type { StepScope } from '../execution/step-context.js'
import { moveStep } from '../execution/step-outcomes.js'

/**
 * Light-policy QA runs inline, right after execution, in the same job. It keeps the original's
 * event types (`qa_passed_inline`, `qa_failed_inline`, `qa_inline_error`) and asks for a brief
 * review; full QA (`run_quality_job`) keeps `qa_passed` / `qa_failed`.
 */
export interface QaOutcomeWords {
  readonly type: string
  readonly message: string
  readonly summary: string
}

/** Event type, message and step summary of a verdict, inline or not. */
export const qaOutcomeWords = (verdict: 'PASS' | 'FAIL', inline: boolean): QaOutcomeWords => {
  const passed = verdict === 'PASS'
  const type = `${passed ? 'qa_passed' : 'qa_failed'}${inline ? '_inline' : ''}`
  const message = `QA ${passed ? 'passed' : 'failed'}${inline ? ' (inline)' : ''}.`
  return { type, message, summary: `QA verdict: ${verdict}${inline ? ' (inline)' : ''}` }
}

/** The closing instruction of the QA prompt: light QA is brief and looks for must-fix issues. */
export const qaAnswerInstruction = (inline: boolean): string =>
  [
    ...(inline
      ? ['This is a light, inline review: keep it brief and report only must-fix (blocking) issues.']
      : []),
    'Use the report format above; end with `VERDICT: PASS` or `VERDICT: FAIL` (FAIL on any blocking issue).',
  ].join('\n')

/**
 * An inline QA whose engine failed does not judge the step either way: the step stays in
 * `needs_qa` (never a pass, never a failure of work that executed fine), `qa_inline_error` says
 * why, and a full QA (`run_quality_job`) can be asked for.
 */
export const recordInlineQaError = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  worktree: { readonly path: string; readonly protocolRoot: string } | undefined,
  reason: string,
  ctx: ChangeOrigin,
): Promise<void> => {
  const message = `Inline QA error; run full QA. ${reason}`
  await deps.uow.run((tx) =>
    moveStep(tx, context.step.id, 'request_qa', {
      event: { type: 'qa_inline_error', message },
      origin: ctx,
      patch: {
        summary: 'Inline QA error; run full QA',
      },
    }),
  )
  if (worktree) {
    const line = `${context.step.stepName}: inline QA errored; run full QA.`
    appendProtocolLog(deps.files, worktree.path, worktree.protocolRoot, line)
  }
}
