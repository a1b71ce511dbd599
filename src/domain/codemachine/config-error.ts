import { AppError } from '../app-error.js'

/** 1-based line and column in a config file. */
export interface SourcePosition {
  readonly line: number
  readonly column: number
}

/** Where an object or array of a parsed config file starts, when known. */
export type ValueLocator = (value: object) => SourcePosition | undefined

/**
 * A CodeMachine workspace that cannot be imported as written: the message starts with
 * `<file>:<line>:<column>` so the author can jump to the spot.
 */
export const configError = (file: string, at: SourcePosition | undefined, problem: string): AppError => {
  const where = at ? `${file}:${at.line}:${at.column}` : file
  return new AppError('ORC_CODEMACHINE_CONFIG_INVALID', `Config error: ${where}: ${problem}`, {
    file,
    line: at?.line ?? null,
    column: at?.column ?? null,
  })
}

export const isConfigError = (error: unknown): error is AppError =>
  error instanceof AppError && error.code === 'ORC_CODEMACHINE_CONFIG_INVALID'
