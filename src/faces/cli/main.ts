import { Command, CommanderError } from 'commander'
import { isConfigError } from '../../config.js'
import { isAppError } from '../../domain/app-error.js'
import { registerDemo } from './commands/demo.command.js'
import { registerMigrate } from './commands/migrate.command.js'
import { registerServe } from './commands/serve.command.js'
import { registerWorker } from './commands/worker.command.js'

/** Exit codes: 0 ok, 1 error, 2 usage or configuration error. */
const program = new Command()
  .name('tasksgodzilla')
  .description('Drive AI coding agents through multi-step protocols on git repositories')
  .version('0.1.0')
  .exitOverride()
  .addHelpText(
    'after',
    '\nExample:\n  $ tasksgodzilla serve            # API on http://127.0.0.1:8010, SQLite + in-process queue',
  )

registerServe(program)
registerWorker(program)
registerMigrate(program)
registerDemo(program)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  process.exitCode = exitCodeFor(error)
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2
  if (isConfigError(error)) {
    process.stderr.write(`tasksgodzilla: ${error.message}\n`)
    return 2
  }
  const message = isAppError(error) || error instanceof Error ? error.message : String(error)
  process.stderr.write(`tasksgodzilla: ${message}\n`)
  return 1
}
