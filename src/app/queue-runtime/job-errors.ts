import { isAppError } from '../../domain/app-error.js'
import type { ErrorCode } from '../../domain/error-codes.js'
import { isErrorCategory, isRetryableCategory, type ErrorCategory } from '../../domain/job-policy.js'
import { PermanentJobError } from './job-handler.js'

/** How a failed attempt is reported and whether another attempt may help. */
export interface ClassifiedError {
  readonly message: string
  /** The error's class name (`Error`, `AppError`, `PermanentJobError`…). */
  readonly type: string
  readonly category: ErrorCategory
  readonly retryable: boolean
}

/** Longest error text kept in the job row and in events (agent output can be huge). */
const MAX_ERROR_CHARS = 2_000

/** Catalogued codes that name a category; every other code is `runtime` (retryable). */
const CODE_CATEGORIES: Partial<Record<ErrorCode, ErrorCategory>> = {
  ORC_VALIDATION_FAILED: 'validation',
  ORC_BAD_REQUEST: 'validation',
  ORC_INVALID_TRANSITION: 'validation',
  ORC_RUN_NOT_FOUND: 'validation',
  ORC_STEP_NOT_FOUND: 'validation',
  ORC_PROJECT_NOT_FOUND: 'validation',
  ORC_CONFIG_INVALID: 'config',
  ORC_ENGINE_UNAVAILABLE: 'config',
  ORC_ENGINE_EXITED: 'codex',
  ORC_ENGINE_STALLED: 'stall',
  ORC_GIT_FAILED: 'git',
  ORC_REPO_NOT_PRESENT: 'git',
  // Another attempt would be refused the same way: only the configuration can change the answer.
  ORC_GIT_HOST_REFUSED: 'validation',
}

/**
 * Classifies what a handler threw: PermanentJobError is never retried whatever its category;
 * an AppError takes its code's category; anything else is a `runtime` error, retryable.
 */
export const classifyJobError = (error: unknown): ClassifiedError => {
  const message = truncate(error instanceof Error ? error.message : String(error))
  const type = error instanceof Error ? error.name : typeof error
  if (error instanceof PermanentJobError) {
    const category = isErrorCategory(error.category) ? error.category : 'validation'
    return { message, type, category, retryable: false }
  }
  const category = (isAppError(error) ? CODE_CATEGORIES[error.code] : undefined) ?? 'runtime'
  return { message, type, category, retryable: isRetryableCategory(category) }
}

const truncate = (text: string): string =>
  text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS)}… (truncated)`
