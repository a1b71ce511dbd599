import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { PathProbe } from '../../domain/spec-paths.js'
import type { PlanningOutput } from '../spec-validation.js'

/** node:fs-backed path probe for spec path resolution. */
export const FS_PROBE: PathProbe = { exists: (path) => existsSync(path) }

/** Writes plan.md, context.md, log.md and the step files into the protocol root. */
export const writePlanningFiles = (protocolRoot: string, output: PlanningOutput): string[] => {
  mkdirSync(protocolRoot, { recursive: true })
  writeFileSync(join(protocolRoot, 'plan.md'), output.plan_md)
  writeFileSync(join(protocolRoot, 'context.md'), output.context_md)
  writeFileSync(join(protocolRoot, 'log.md'), output.log_md)
  for (const { filename, content } of output.step_files) writeFileSync(join(protocolRoot, filename), content)
  return output.step_files.map(({ filename }) => filename)
}

/** Names of the files directly in the protocol root (none when it does not exist). */
export const listProtocolFiles = (protocolRoot: string): string[] =>
  existsSync(protocolRoot) ? readdirSync(protocolRoot) : []

/** A file's text, or `fallback` when it cannot be read. */
export const readText = (path: string, fallback = ''): string => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

/** Writes a file, creating its folder. */
export const writeText = (path: string, text: string): void => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

/** Appends one dated line to the protocol's `log.md`. */
export const appendProtocolLog = (protocolRoot: string, line: string): void => {
  mkdirSync(protocolRoot, { recursive: true })
  appendFileSync(join(protocolRoot, 'log.md'), `\n- ${new Date().toISOString()} ${line}\n`)
}
