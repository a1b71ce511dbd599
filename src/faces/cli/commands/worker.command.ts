import type { Command } from 'commander'
import { loadCliConfig } from '../process.js'

export const registerWorker = (program: Command): void => {
  program
    .command('worker')
    .description('Run a queue worker process (needs TASKSGODZILLA_REDIS_URL=redis://…)')
    .option('--concurrency <n>', 'jobs processed at once', '1')
    .addHelpText(
      'after',
      '\nExample:\n  $ TASKSGODZILLA_REDIS_URL=redis://127.0.0.1:6379 tasksgodzilla worker --concurrency 2',
    )
    .action(async () => {
      const { config } = await loadCliConfig()
      if (config.queue.backend !== 'redis') {
        process.stderr.write(
          'tasksgodzilla worker needs TASKSGODZILLA_REDIS_URL=redis://…; the embedded queue runs inside `serve`.\n',
        )
        process.exitCode = 2
        return
      }
      process.stderr.write('Dedicated workers are not available yet in this build.\n')
      process.exitCode = 2
    })
}
