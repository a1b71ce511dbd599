import type { Command } from 'commander'
import { compositionRoot } from '../composition-root.js'
import { loadCliConfig } from '../process.js'

export const registerMigrate = (program: Command): void => {
  program
    .command('migrate')
    .description('Bring the database schema up to date (safe to run again)')
    .addHelpText(
      'after',
      '\nExample:\n  $ TASKSGODZILLA_DB_URL=postgresql://localhost/tgz tasksgodzilla migrate',
    )
    .action(async () => {
      const { config } = await loadCliConfig()
      const { runMigrations } = await compositionRoot()
      const report = await runMigrations(config)
      const target = config.database.dialect === 'sqlite' ? config.database.path : 'postgres'
      process.stdout.write(
        report.applied.length === 0
          ? `Database ${target} is up to date.\n`
          : `Applied ${report.applied.length} migration(s) to ${target}: ${report.applied.join(', ')}\n`,
      )
    })
}
