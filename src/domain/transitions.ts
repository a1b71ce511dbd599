import { AppError } from './app-error.js'
import type { ProtocolStatus, StepStatus } from './statuses.js'

/**
 * The only authority on which status may follow which. Every status write in the system is a
 * compare-and-set whose allowed sources come from here, so a cancelled or completed run can never
 * be revived by a late job, a webhook or a blind write.
 */
interface Rule<S extends string> {
  readonly from: readonly S[]
  readonly to: S
  /** What the caller is told when the current status is not in `from`. */
  readonly refusal: string
  /** More precise refusals for particular current statuses. */
  readonly refusalFor?: Partial<Record<S, string>>
}

const ACTIVE_RUN: readonly ProtocolStatus[] = ['pending', 'planning', 'planned', 'running', 'blocked']

export const PROTOCOL_TRANSITIONS = {
  /** User starts (or re-plans) a run. A paused run is resumed, not re-planned. */
  start: {
    from: ['pending', 'planned', 'blocked'],
    to: 'planning',
    refusal: 'Protocol already running or terminal',
    refusalFor: { paused: 'Protocol is paused; resume it instead of starting it again' },
  },
  /** A planner finished: the run has steps and waits for execution. */
  plan_done: { from: ['planning'], to: 'planned', refusal: 'Protocol is not planning' },
  /** Step work begins (user action, worker, onboarding). Paused and terminal runs refuse new work. */
  run: {
    from: ACTIVE_RUN,
    to: 'running',
    refusal: 'Protocol already terminal',
    refusalFor: { paused: 'Protocol is paused; resume it before running steps' },
  },
  pause: {
    from: ACTIVE_RUN,
    to: 'paused',
    refusal: 'Protocol already terminal',
    refusalFor: { paused: 'Protocol already paused' },
  },
  resume: { from: ['paused'], to: 'running', refusal: 'Protocol is not paused' },
  /** Work cannot go on without a human (QA fail, CI fail, missing repo, last job attempt failed). */
  block: {
    from: ['pending', 'planning', 'planned', 'running'],
    to: 'blocked',
    refusal: 'Protocol is not active',
  },
  /** Every step is done. A paused run stays paused until the user resumes it. */
  complete: {
    from: ['planned', 'running', 'blocked'],
    to: 'completed',
    refusal: 'Protocol cannot complete from its current status',
  },
  /** The PR/MR was merged: the work is accepted whatever the run was doing. */
  merge: { from: [...ACTIVE_RUN, 'paused'], to: 'completed', refusal: 'Protocol already terminal' },
  /**
   * PR review comments or a base-branch conflict send the run back to work, also once every step
   * is done (the PR is still open); the caller refuses a run whose PR/MR was merged.
   */
  reopen: {
    from: ['planned', 'running', 'blocked', 'completed'],
    to: 'running',
    refusal: 'Protocol cannot be reopened from its current status',
  },
  fail: { from: [...ACTIVE_RUN, 'paused'], to: 'failed', refusal: 'Protocol already terminal' },
  cancel: {
    from: [...ACTIVE_RUN, 'paused'],
    to: 'cancelled',
    refusal: 'Protocol already terminal',
    refusalFor: { cancelled: 'Protocol already cancelled' },
  },
} as const satisfies Record<string, Rule<ProtocolStatus>>

export const STEP_TRANSITIONS = {
  run: {
    from: ['pending', 'blocked', 'failed'],
    to: 'running',
    refusal: 'Step already running or completed',
  },
  retry: { from: ['failed', 'blocked'], to: 'running', refusal: 'Step is not failed or blocked' },
  request_qa: {
    from: ['pending', 'running', 'needs_qa', 'failed', 'blocked'],
    to: 'needs_qa',
    refusal: 'Step already completed or cancelled',
  },
  /** The engine hit a usage or rate limit: the step is parked until the limit resets. */
  park_quota: { from: ['running'], to: 'waiting_quota', refusal: 'Step is not running' },
  /** The limit reset (or the engine's circuit breaker closed): the parked step runs again. */
  resume_quota: { from: ['waiting_quota'], to: 'running', refusal: 'Step is not waiting for quota' },
  /** The QA engine hit a usage or rate limit: the step waits for its verdict until the reset. */
  park_qa_quota: { from: ['needs_qa'], to: 'waiting_quota', refusal: 'Step is not awaiting QA' },
  /** The QA engine's limit reset: the step is judged again. */
  resume_qa: { from: ['waiting_quota'], to: 'needs_qa', refusal: 'Step is not waiting for quota' },
  /** The engine finished and the step waits for its QA verdict. */
  executed: { from: ['running'], to: 'needs_qa', refusal: 'Step is not running' },
  complete: { from: ['running', 'needs_qa'], to: 'completed', refusal: 'Step is not running or awaiting QA' },
  fail: { from: ['running', 'needs_qa'], to: 'failed', refusal: 'Step is not running or awaiting QA' },
  /** A CI failure may reopen a completed step of an active run. */
  ci_fail: { from: ['running', 'needs_qa', 'completed'], to: 'failed', refusal: 'Step is not active' },
  block: {
    from: ['pending', 'running', 'needs_qa', 'waiting_quota'],
    to: 'blocked',
    refusal: 'Step is not active',
  },
  approve: {
    from: ['needs_qa', 'blocked', 'failed', 'pending'],
    to: 'completed',
    refusal: 'Step cannot be approved in its current status',
    refusalFor: {
      completed: 'Step already completed',
      cancelled: 'Step was cancelled',
      running: 'Step is still running',
      waiting_quota: 'Step is waiting for its engine quota',
    },
  },
  cancel: {
    from: ['pending', 'running', 'needs_qa', 'waiting_quota', 'blocked', 'failed'],
    to: 'cancelled',
    refusal: 'Step already completed or cancelled',
  },
  /** A loop or trigger policy sends the step back to the queue. Running and cancelled steps are left alone. */
  reset: {
    from: ['pending', 'needs_qa', 'completed', 'failed', 'blocked'],
    to: 'pending',
    refusal: 'Step is running or cancelled',
  },
} as const satisfies Record<string, Rule<StepStatus>>

export type ProtocolAction = keyof typeof PROTOCOL_TRANSITIONS
export type StepAction = keyof typeof STEP_TRANSITIONS

export interface Transition<S extends string> {
  readonly from: readonly S[]
  readonly to: S
}

export const protocolTransition = (action: ProtocolAction): Transition<ProtocolStatus> =>
  PROTOCOL_TRANSITIONS[action]

export const stepTransition = (action: StepAction): Transition<StepStatus> => STEP_TRANSITIONS[action]

export const canProtocol = (status: ProtocolStatus, action: ProtocolAction): boolean =>
  (PROTOCOL_TRANSITIONS[action].from as readonly ProtocolStatus[]).includes(status)

export const canStep = (status: StepStatus, action: StepAction): boolean =>
  (STEP_TRANSITIONS[action].from as readonly StepStatus[]).includes(status)

/** The status a run moves to under `action`, or ORC_INVALID_TRANSITION with the caller-facing reason. */
export const nextProtocolStatus = (status: ProtocolStatus, action: ProtocolAction): ProtocolStatus =>
  next<ProtocolStatus>(PROTOCOL_TRANSITIONS[action], status, action)

/** The status a step moves to under `action`, or ORC_INVALID_TRANSITION with the caller-facing reason. */
export const nextStepStatus = (status: StepStatus, action: StepAction): StepStatus =>
  next<StepStatus>(STEP_TRANSITIONS[action], status, action)

const next = <S extends string>(rule: Rule<S>, status: S, action: string): S => {
  if (rule.from.includes(status)) return rule.to
  const reason = rule.refusalFor?.[status] ?? rule.refusal
  throw new AppError('ORC_INVALID_TRANSITION', reason, { status, action })
}
