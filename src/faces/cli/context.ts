import { InvalidArgumentError, type Command } from 'commander'
import { createApiClient, DEFAULT_API_BASE, type ApiClient } from './api-client.js'
import { readClientConfig } from './client-config.js'
import { styleFor, type Style } from './output/style.js'

/** What every client command needs: the HTTP client, the output style and `--json`. */
export interface CliContext {
  readonly client: ApiClient
  readonly style: Style
  readonly json: boolean
  write(text: string): void
}

interface GlobalOptions {
  apiBase?: string
  token?: string
  projectToken?: string
  json?: boolean
}

/** Adds the client options to the program; commander accepts them before or after a subcommand. */
export const addGlobalOptions = (program: Command): Command =>
  program
    .option('--api-base <url>', `API base URL (env TASKSGODZILLA_API_BASE, default ${DEFAULT_API_BASE})`)
    .option('--token <token>', 'API bearer token (env TASKSGODZILLA_API_TOKEN)')
    .option(
      '--project-token <token>',
      'project token, sent as X-Project-Token (env TASKSGODZILLA_PROJECT_TOKEN)',
    )
    .option('--json', "print the API's JSON unchanged")

export const contextOf = (command: Command): CliContext => {
  const options = command.optsWithGlobals<GlobalOptions>()
  const config = readClientConfig()
  const client = createApiClient({
    apiBase: options.apiBase ?? config.apiBase ?? DEFAULT_API_BASE,
    token: options.token ?? config.token,
    projectToken: options.projectToken ?? config.projectToken,
  })
  return {
    client,
    style: styleFor(process.stdout.isTTY, config.terminal),
    json: options.json === true,
    write: (text) => void process.stdout.write(text),
  }
}

/** Prints the API's JSON (with `--json`) or the human rendering. */
export const emit = (ctx: CliContext, data: unknown, human: () => string): void =>
  ctx.write(ctx.json ? `${JSON.stringify(data, null, 2)}\n` : human())

export const parseId = (value: string): number => {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive id')
  return Number(value)
}

/** A positional id checked inside an action (commander's argParser errors are for options). */
export const argId = (value: string): number => {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1) {
    throw new UsageError(`invalid id "${value}": expected a positive integer`)
  }
  return Number(value)
}

export const parsePositive = (value: string): number => {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a positive integer')
  }
  return Number(value)
}

export const parseJsonObject = (value: string): Record<string, unknown> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new InvalidArgumentError('expected a JSON object')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** A usage mistake found after parsing (exit code 2, like commander's own). */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** `Example:` help text after a command's options. */
export const example = (...lines: string[]): string =>
  `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`
