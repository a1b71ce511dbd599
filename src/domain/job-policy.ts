/**
 * The error taxonomy of the original (api-storage §4.4): the category decides whether another
 * attempt can help. Pure data; `app/queue-runtime/job-errors.ts` maps thrown errors onto it.
 */
export const ERROR_CATEGORIES = [
  'validation',
  'config',
  'codex',
  'git',
  'ci',
  'api',
  'runtime',
  // Ours: the attempt's worker died or stalled past its lease (a handler that kills its process).
  'worker_lost',
  // Ours: the agent printed nothing for TASKSGODZILLA_AGENT_STALL_SECONDS and was stopped.
  'stall',
] as const
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number]

const RETRYABLE: ReadonlySet<ErrorCategory> = new Set(['codex', 'git', 'runtime', 'worker_lost', 'stall'])

export const isErrorCategory = (value: string): value is ErrorCategory =>
  (ERROR_CATEGORIES as readonly string[]).includes(value)

export const isRetryableCategory = (category: ErrorCategory): boolean => RETRYABLE.has(category)

export interface BackoffPolicy {
  readonly backoffBaseMs: number
  readonly backoffMaxMs: number
}

/**
 * Delay before the attempt that follows failed attempt `attempt` (1-based): base, 2×base, 4×base…
 * capped at the maximum. The embedded queue and BullMQ's custom strategy both use this, so the
 * two backends keep the same schedule.
 */
export const backoffDelayMs = (attempt: number, policy: BackoffPolicy): number => {
  const exponent = Math.max(0, attempt - 1)
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** exponent)
}
