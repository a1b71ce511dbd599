import { relativePathProblem } from '../git-refs.js'
import { dirName, joinPath } from '../posix-path.js'
import {
  expandPlaceholders,
  resolveOutputPath,
  resolveSpecPath,
  type PathProbe,
  type ResolvedPath,
  type SpecRoots,
} from '../spec-paths.js'
import type { ProtocolSpec, StepSpec } from '../spec.js'
import type { CodeMachineAgent } from './workspace-config.js'

/** Where a CodeMachine step runs: the workspace, its `.codemachine` root and the protocol's name. */
export interface CodeMachineRoots {
  readonly workspace: string
  /** `<workspace>/.codemachine` (or the workspace itself). */
  readonly root: string
  readonly protocolName: string
}

export interface CodeMachineStepPaths {
  readonly promptPath: string
  readonly outputs: { readonly protocol: string; readonly aux: Readonly<Record<string, string>> }
}

/**
 * Prompt and outputs of a CodeMachine step (CM-8, CM-11), placeholders expanded, every path inside
 * the workspace: the spec's `prompt_ref` when that file exists, else the agent's prompt path
 * (which must exist). Main output: the spec's, else `<workspace>/.protocols/<protocol>/<step>.md`.
 * Aux outputs prefer `<workspace>/…` when that folder exists, else `<.codemachine>/…`; the
 * `codemachine` one defaults to `<.codemachine>/outputs/<agent>.md`.
 */
export const resolveCodeMachineStep = (
  step: StepSpec,
  stepName: string,
  agent: CodeMachineAgent,
  {
    spec,
    roots,
    probe,
  }: { readonly spec: ProtocolSpec | undefined; readonly roots: CodeMachineRoots; readonly probe: PathProbe },
): CodeMachineStepPaths | { readonly error: string } => {
  const specRoots: SpecRoots = { protocolRoot: roots.root, workspace: roots.workspace }
  const expand = (value: string): string => expandPlaceholders(value, spec?.placeholders)
  const fromSpec = step.prompt_ref ? resolveSpecPath(expand(step.prompt_ref), specRoots, probe) : undefined
  const prompt =
    fromSpec && 'path' in fromSpec && probe.exists(fromSpec.path)
      ? fromSpec
      : resolveSpecPath(expand(agent.prompt_path), specRoots, probe)
  if ('error' in prompt) return { error: `prompt ${prompt.error}` }
  if (!probe.exists(prompt.path)) return { error: `prompt file missing: ${prompt.path}` }
  const main = step.outputs?.protocol
    ? resolveOutputPath(expand(step.outputs.protocol), specRoots, probe, true)
    : { path: joinPath(roots.workspace, '.protocols', roots.protocolName, withMd(stepName)) }
  if ('error' in main) return { error: `outputs.protocol ${main.error}` }
  const auxSpec = { codemachine: `outputs/${agent.id}.md`, ...step.outputs?.aux }
  const aux: Record<string, string> = {}
  for (const [key, value] of Object.entries(auxSpec)) {
    const resolved = auxOutput(expand(value), specRoots, probe)
    if ('error' in resolved) return { error: `outputs.aux.${key} ${resolved.error}` }
    aux[key] = resolved.path
  }
  return { promptPath: prompt.path, outputs: { protocol: main.path, aux } }
}

/** The prompt followed by the workspace's specification, when it has one (CM-8). */
export const withSpecification = (prompt: string, specification: string | undefined): string =>
  specification === undefined ? prompt : `${prompt}\n\n---\n# Specification\n\n${specification}`

const withMd = (name: string): string => (name.endsWith('.md') ? name : `${name}.md`)

const auxOutput = (value: string, roots: SpecRoots, probe: PathProbe): ResolvedPath => {
  if (value.startsWith('/')) return resolveOutputPath(value, roots, probe)
  const problem = relativePathProblem(value)
  if (problem) return { error: `path ${JSON.stringify(value)} is refused: ${problem}` }
  const inWorkspace = joinPath(roots.workspace, value)
  const inRoot = joinPath(roots.protocolRoot, value)
  return { path: probe.exists(dirName(inWorkspace)) ? inWorkspace : inRoot }
}
