import { Command } from 'commander'
import { registerCi } from './commands/ci.command.js'
import { registerCompletion } from './commands/completion.command.js'
import { registerDemo } from './commands/demo.command.js'
import { registerEvents } from './commands/events.command.js'
import { registerMigrate } from './commands/migrate.command.js'
import { registerMcp } from './commands/mcp.command.js'
import { registerProjects } from './commands/projects.command.js'
import { registerProtocols } from './commands/protocols.command.js'
import { registerQueues, registerSpecs } from './commands/queues.command.js'
import { registerServe } from './commands/serve.command.js'
import { registerSteps } from './commands/steps.command.js'
import { registerWorker } from './commands/worker.command.js'
import { addGlobalOptions } from './context.js'

/** The whole command tree, built fresh (tests walk it; main.ts parses argv with it). */
export const buildProgram = (): Command => {
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
      '  $ tasksgodzilla ci report failure --log-file test.log   # from a CI job (see ci report --help)',
      '\nExit codes: 0 ok, 1 API error, 2 usage error, 3 cannot reach the server.',
    ].join('\n'),
  )

  registerServe(program)
  registerWorker(program)
  registerMigrate(program)
  registerDemo(program)
  registerProjects(program)
  registerProtocols(program)
  registerSteps(program)
  registerEvents(program)
  registerQueues(program)
  registerSpecs(program)
  registerCi(program)
  registerMcp(program)
  registerCompletion(program)
  // Every group inherits exitOverride, so a bare group or a typo is a usage error, never a silent 0.
  for (const group of program.commands) group.exitOverride()
  return program
}
