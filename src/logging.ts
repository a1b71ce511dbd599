import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import type { Config } from './config.js'

export type { Logger } from 'pino'

/** Paths pino blanks out wherever they appear, so a secret cannot reach a log line by accident. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-project-token"]',
  'req.headers["x-gitlab-token"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-gitlab-signature-256"]',
  'req.headers["x-tasksgodzilla-webhook-token"]',
  '*.token',
  '*.api_token',
  '*.apiToken',
  '*.secrets',
  '*.password',
]

/**
 * The process logger: JSON lines when TASKSGODZILLA_LOG_JSON is on, a readable single line otherwise.
 * Context ids (request, job, run, step) are added by child loggers where they are known.
 */
export const createLogger = (
  config: Pick<Config, 'log' | 'env'>,
  destination?: NodeJS.WritableStream,
): Logger => {
  const options = {
    level: config.log.level,
    base: { env: config.env },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }
  if (config.log.json) return pino(options, destination ?? process.stdout)
  return pino(options, destination === undefined ? stdoutPretty() : prettyTo(destination, false))
}

const prettyTo = (destination: NodeJS.WritableStream, colorize: boolean) =>
  pretty({
    destination,
    colorize,
    translateTime: 'SYS:standard',
    ignore: 'pid,hostname,env',
    singleLine: true,
  })

let stdoutStream: ReturnType<typeof pretty> | undefined

/**
 * One pretty stream into stdout per process, shared by every logger made for it: each stream pipes
 * into stdout and leaves close/error listeners on it for good, so a process that makes a logger per
 * run (the queue bench: one per row) went past Node's 10 and printed MaxListenersExceededWarning.
 */
const stdoutPretty = (): ReturnType<typeof pretty> =>
  (stdoutStream ??= prettyTo(process.stdout, process.stdout.isTTY))
