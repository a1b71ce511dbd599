import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import { parse, parseAllDocuments } from 'yaml'
import { buildProgram } from '../../src/faces/cli/program.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const readRoot = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

/** Every document of a YAML file (compose anchors and merge keys resolved). */
export const yamlDocuments = (path: string): Array<Record<string, unknown>> =>
  parseAllDocuments(readRoot(path), { merge: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message}`)
    return doc.toJS() as Record<string, unknown>
  })

export const yamlFile = <T>(path: string): T => parse(readRoot(path), { merge: true }) as T

/** Variables whose value is a secret: they must come from a Secret / the operator's environment. */
export const SECRET_NAME = /TOKEN|PASSWORD|SECRET|_DB_URL$|_REDIS_URL$/

/** The TASKSGODZILLA_* names the server reads (config.ts and the readers it delegates to). */
export const configuredNames = (): Set<string> => {
  const sources = ['src/config.ts', 'src/config-jobs.ts', 'src/config-readers.ts'].map(readRoot).join('\n')
  return new Set([...sources.matchAll(/'(TASKSGODZILLA_[A-Z0-9_]+)'/g)].map((match) => match[1]!))
}

/**
 * Parses `args` with the real CLI, every action replaced by a recorder, so an unknown command,
 * an unknown flag or a value its parser refuses fails as it would in the container.
 */
export const parseCli = async (
  args: readonly string[],
): Promise<{ command: string; options: Record<string, unknown> }> => {
  const program = buildProgram()
  let seen: { command: string; options: Record<string, unknown> } | undefined
  const record = (command: Command) =>
    command.action((options: Record<string, unknown>) => {
      seen = { command: command.name(), options }
    })
  program.commands.forEach(record)
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
  await program.parseAsync(['node', 'tasksgodzilla', ...args])
  if (!seen) throw new Error(`tasksgodzilla ${args.join(' ')} ran no command`)
  return seen
}
