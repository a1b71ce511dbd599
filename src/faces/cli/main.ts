import { CommanderError } from 'commander'
import { isConfigError } from '../../config.js'
import { isAppError } from '../../domain/app-error.js'
import { ApiError, UnreachableError } from './api-client.js'
import { UsageError } from './context.js'
import { buildProgram } from './program.js'

/** Exit codes: 0 ok, 1 API or runtime error, 2 usage or configuration error, 3 server unreachable. */
export const EXIT = { ok: 0, error: 1, usage: 2, unreachable: 3 } as const

const program = buildProgram()

try {
  await program.parseAsync(process.argv)
} catch (error) {
  process.exitCode = exitCodeFor(error)
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  if (error instanceof UsageError || isConfigError(error)) return fail(error.message, EXIT.usage)
  if (error instanceof ApiError) return fail(`error: ${error.detail} (HTTP ${error.status})`, EXIT.error)
  if (error instanceof UnreachableError) return fail(error.message, EXIT.unreachable)
  const message = isAppError(error) || error instanceof Error ? error.message : String(error)
  return fail(message, EXIT.error)
}

function fail(message: string, code: number): number {
  process.stderr.write(`tasksgodzilla: ${message}\n`)
  return code
}
