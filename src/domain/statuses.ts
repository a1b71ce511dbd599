/** Lifecycle of a protocol run (one task on its own branch and worktree). */
export const PROTOCOL_STATUSES = [
  'pending',
  'planning',
  'planned',
  'running',
  'paused',
  'blocked',
  'failed',
  'cancelled',
  'completed',
] as const
export type ProtocolStatus = (typeof PROTOCOL_STATUSES)[number]

/** Lifecycle of one step inside a run. */
export const STEP_STATUSES = [
  'pending',
  'running',
  'needs_qa',
  /** The engine hit a usage or rate limit: the step waits for `runtime_state.resume_at`. */
  'waiting_quota',
  'completed',
  'failed',
  'cancelled',
  'blocked',
] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

/** A terminal run never changes status again (except an explicit re-plan, which is not a thing). */
export const TERMINAL_PROTOCOL_STATUSES: readonly ProtocolStatus[] = ['cancelled', 'completed', 'failed']

/** Steps in these statuses count as done when deciding whether a run is complete. */
export const DONE_STEP_STATUSES: readonly StepStatus[] = ['completed', 'cancelled']

export const isProtocolStatus = (value: string): value is ProtocolStatus =>
  (PROTOCOL_STATUSES as readonly string[]).includes(value)

export const isStepStatus = (value: string): value is StepStatus =>
  (STEP_STATUSES as readonly string[]).includes(value)

export const isTerminalProtocolStatus = (status: ProtocolStatus): boolean =>
  TERMINAL_PROTOCOL_STATUSES.includes(status)
