import { relativePathProblem } from './git-refs.js'
import { dirName, isInside, joinPath, normalizePath } from './posix-path.js'
import type { ProtocolSpec, StepSpec } from './spec.js'
import { defaultStepOutput, stepNameOf } from './spec.js'

/** What path resolution may ask of the file system; the app passes node:fs-backed functions. */
export interface PathProbe {
  readonly exists: (path: string) => boolean
}

/** The two roots a spec path is resolved against. */
export interface SpecRoots {
  /** `<workspace>/.protocols/<protocol_name>` (or `.codemachine`). */
  readonly protocolRoot: string
  /** The worktree the agent runs in. */
  readonly workspace: string
}

/**
 * Substitutes placeholders: a leading path segment equal to a key, then `{{KEY}}`, `${KEY}`,
 * `<KEY>` and `$KEY`. `$KEY` must end at a non-word character, so `$NAMEX` is left alone
 * (the original replaced its prefix).
 */
export const expandPlaceholders = (
  value: string,
  placeholders: ProtocolSpec['placeholders'] | undefined,
): string => {
  if (!placeholders) return value
  let out = value
  const [first, ...rest] = out.split('/')
  if (first !== undefined && rest.length > 0 && Object.hasOwn(placeholders, first))
    out = [String(placeholders[first]), ...rest].join('/')
  for (const [key, raw] of Object.entries(placeholders)) {
    const text = String(raw)
    out = out.split(`{{${key}}}`).join(text).split(`\${${key}}`).join(text).split(`<${key}>`).join(text)
    out = out.replace(new RegExp(`\\$${escapeRegExp(key)}(?![A-Za-z0-9_])`, 'g'), () => text)
  }
  return out
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export type ResolvedPath = { readonly path: string } | { readonly error: string }

/**
 * Resolves a prompt or input path: relative values try `<protocolRoot>/value` then
 * `<workspace>/value` (first existing wins, else the first); absolute values must lie inside one
 * of the roots. Anything climbing out (`..`, leading `-`) is an error, never a path.
 */
export const resolveSpecPath = (value: string, roots: SpecRoots, probe: PathProbe): ResolvedPath => {
  const candidates = candidatesFor(value, roots)
  if ('error' in candidates) return candidates
  return {
    path: candidates.list.find((path) => probe.exists(path)) ?? candidates.list[0] ?? roots.protocolRoot,
  }
}

/** Resolves an output path: the first candidate whose parent folder exists, else the first. */
export const resolveOutputPath = (
  value: string,
  roots: SpecRoots,
  probe: PathProbe,
  preferWorkspace = false,
): ResolvedPath => {
  const candidates = candidatesFor(value, roots, preferWorkspace)
  if ('error' in candidates) return candidates
  const list = candidates.list
  return { path: list.find((path) => probe.exists(dirName(path))) ?? list[0] ?? roots.protocolRoot }
}

const candidatesFor = (
  value: string,
  roots: SpecRoots,
  preferWorkspace = false,
): { readonly list: string[] } | { readonly error: string } => {
  if (value.startsWith('/')) {
    const path = normalizePath(value)
    const inside = isInside(roots.protocolRoot, path) || isInside(roots.workspace, path)
    return inside ? { list: [path] } : { error: `path ${value} lies outside the protocol root and workspace` }
  }
  const problem = relativePathProblem(value)
  if (problem) return { error: `path ${JSON.stringify(value)} is refused: ${problem}` }
  const bases = preferWorkspace
    ? [roots.workspace, roots.protocolRoot]
    : [roots.protocolRoot, roots.workspace]
  return { list: [...new Set(bases.map((base) => joinPath(base, value)))] }
}

export interface ResolvedStepPaths {
  readonly promptPath: string
  readonly outputs: { readonly protocol: string; readonly aux: Readonly<Record<string, string>> }
}

/**
 * Prompt and output paths of a step with placeholders expanded, or the list of errors that stop
 * it (missing prompt file, output folder outside the roots). Output folders need not exist yet:
 * the executor creates them, inside the roots only.
 */
export const resolveStepPaths = (
  step: StepSpec,
  spec: ProtocolSpec | undefined,
  roots: SpecRoots,
  probe: PathProbe,
): ResolvedStepPaths | { readonly errors: readonly string[] } => {
  const errors: string[] = []
  const expand = (value: string): string => expandPlaceholders(value, spec?.placeholders)
  const prompt = resolveSpecPath(expand(step.prompt_ref), roots, probe)
  if ('error' in prompt) errors.push(`prompt_ref ${prompt.error}`)
  else if (!probe.exists(prompt.path)) errors.push(`prompt_ref missing: ${prompt.path}`)
  const name = stepNameOf(step, step.order ?? 0)
  const main = resolveOutputPath(expand(step.outputs?.protocol ?? defaultStepOutput(name)), roots, probe)
  if ('error' in main) errors.push(`outputs.protocol ${main.error}`)
  const aux: Record<string, string> = {}
  for (const [key, value] of Object.entries(step.outputs?.aux ?? {})) {
    const resolved = resolveOutputPath(expand(value), roots, probe)
    if ('error' in resolved) errors.push(`outputs.aux.${key} ${resolved.error}`)
    else aux[key] = resolved.path
  }
  if (errors.length > 0 || 'error' in prompt || 'error' in main) return { errors }
  return { promptPath: prompt.path, outputs: { protocol: main.path, aux } }
}
