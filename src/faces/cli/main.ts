import { Command, CommanderError } from 'commander'
import { isConfigError } from '../../config.js'
import { isAppError } from '../../domain/app-error.js'
import { ApiError, UnreachableError } from './api-client.js'
import { registerCompletion } from './commands/completion.command.js'
import { registerEvents } from './commands/events.command.js'
import { registerMigrate } from './commands/migrate.command.js'
import { registerProjects } from './commands/projects.command.js'
import { registerProtocols } from './commands/protocols.command.js'
import { registerQueues, registerSpecs } from './commands/queues.command.js'
import { registerServe } from './commands/serve.command.js'
import { registerSteps } from './commands/steps.command.js'
import { registerWorker } from './commands/worker.command.js'
import { addGlobalOptions, UsageError } from './context.js'

/** Exit codes: 0 ok, 1 API or runtime error, 2 usage or configuration error, 3 server unreachable. */
export const EXIT = { ok: 0, error: 1, usage: 2, unreachable: 3 } as const

const program = addGlobalOptions(
  new Command()
    .name('tasksgodzilla')
    .description('Drive AI coding agents through multi-step protocols on git repositories')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)'),
).addHelpText(
  'after',
  [
    '\nExamples:',
    '  $ tasksgodzilla serve                                # API on http://127.0.0.1:8010, SQLite + in-process queue',
    '  $ tasksgodzilla projects create --name demo --git-url https://github.com/acme/demo.git',
    '  $ tasksgodzilla protocols create-and-start --project 1 --name 0001-add-login',
    '  $ tasksgodzilla protocols watch 2                    # live board until the run ends',
    '  $ tasksgodzilla events watch --project 1 --json      # one JSON event per line',
    '\nExit codes: 0 ok, 1 API error, 2 usage error, 3 cannot reach the server.',
  ].join('\n'),
)

registerServe(program)
registerWorker(program)
registerMigrate(program)
registerProjects(program)
registerProtocols(program)
registerSteps(program)
registerEvents(program)
registerQueues(program)
registerSpecs(program)
registerCompletion(program)
// Every group inherits exitOverride, so a bare group or a typo is a usage error, never a silent 0.
for (const group of program.commands) group.exitOverride()

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
