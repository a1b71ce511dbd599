import { InvalidArgumentError } from 'commander'
import { loadConfig, type Config } from '../../config.js'
import { createLogger, type Logger } from '../../logging.js'

/** Reads the configuration once for a command; an invalid variable surfaces as one line (see main.ts in this folder). */
export const loadCliConfig = async (): Promise<{ config: Config; logger: Logger }> => {
  const config = loadConfig(process.env, process.cwd())
  return { config, logger: createLogger(config) }
}

export const parsePort = (value: string): number => {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535')
  }
  return port
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits. */
export const onShutdown = (stop: () => Promise<void>): void => {
  let stopping = false
  const handler = (): void => {
    if (stopping) return
    stopping = true
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
}
