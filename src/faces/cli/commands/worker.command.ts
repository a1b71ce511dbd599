import { InvalidArgumentError, type Command } from 'commander'
import { compositionRoot } from '../composition-root.js'
import { loadCliConfig, onShutdown, parsePort } from '../process.js'

interface WorkerFlags {
  concurrency: number
  queues: string[]
  metricsPort?: number
  grace: number
}

export const registerWorker = (program: Command): void => {
  program
    .command('worker')
    .description('Run a queue worker process (needs TASKSGODZILLA_REDIS_URL=redis://…)')
    .option('--concurrency <n>', 'jobs processed at once', parsePositive, 1)
    .option('--queues <names...>', 'queues to consume', ['default'])
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port', parsePort)
    .option(
      '--grace <seconds>',
      'on SIGTERM, how long running jobs may finish before being handed back',
      parsePositive,
      25,
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ TASKSGODZILLA_REDIS_URL=redis://127.0.0.1:6379 tasksgodzilla worker --concurrency 2 --metrics-port 9101',
    )
    .action(async (flags: WorkerFlags) => {
      const { config, logger } = await loadCliConfig()
      if (config.queue.backend !== 'redis') {
        process.stderr.write(
          'tasksgodzilla worker needs TASKSGODZILLA_REDIS_URL=redis://…; the embedded queue runs inside `serve`.\n',
        )
        process.exitCode = 2
        return
      }
      const { startWorker } = await compositionRoot()
      const running = await startWorker(config, logger, {
        concurrency: flags.concurrency,
        queues: flags.queues,
        metricsPort: flags.metricsPort,
        graceMs: flags.grace * 1000,
      })
      onShutdown(() => running.stop())
    })
}

const parsePositive = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1')
  return n
}
