import type { ErrorCode } from './error-codes.js'

/**
 * The one error type that crosses layers. `message` is written for the caller: it quotes what
 * they sent and never carries a secret. `details` holds structured extras (never secrets either).
 */
export class AppError extends Error {
  override readonly name = 'AppError'

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message)
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError
