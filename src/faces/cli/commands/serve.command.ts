import type { Command } from 'commander'
import { compositionRoot } from '../composition-root.js'
import { loadCliConfig, onShutdown, parsePort } from '../process.js'

export const registerServe = (program: Command): void => {
  program
    .command('serve')
    .description('Start the API server (SQLite and the in-process queue unless configured otherwise)')
    .option('--host <host>', 'interface to bind (default 127.0.0.1 without an API token)')
    .option('--port <port>', 'port to listen on (default TASKSGODZILLA_API_PORT or 8010)', parsePort)
    .option('--no-jobs', 'API only: leave jobs to other processes (workers or other instances)')
    .addHelpText('after', '\nExample:\n  $ tasksgodzilla serve --port 8010')
    .action(async (options: { host?: string; port?: number; jobs: boolean }) => {
      const { config, logger } = await loadCliConfig()
      const { startServer } = await compositionRoot()
      const running = await startServer(config, logger, { ...options, runJobs: options.jobs })
      onShutdown(() => running.stop())
    })
}
