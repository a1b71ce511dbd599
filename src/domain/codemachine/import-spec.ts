import type { JsonObject, JsonValue } from '../json.js'
import { relativePathProblem } from '../git-refs.js'
import { isInside, normalizePath } from '../posix-path.js'
import { expandPlaceholders, type SpecRoots } from '../spec-paths.js'
import { inferStepType, type ProtocolSpec, type QaSpec, type StepSpec } from '../spec.js'
import { configError } from './config-error.js'
import { policiesFor, type CodeMachinePolicy } from './module-policies.js'
import { isObject, type LoadedAgent } from './workspace-config.js'

/** A loaded `.codemachine` workspace, every file already mapped (see workspace-config.ts). */
export interface CodeMachineWorkspace {
  readonly main: readonly LoadedAgent[]
  readonly sub: readonly LoadedAgent[]
  readonly modules: readonly CodeMachinePolicy[]
  readonly placeholders: Readonly<Record<string, string | number | boolean>>
  readonly template: JsonObject
}

/** `NN-<agent id>`: the StepRun name of the i-th main agent. */
export const stepNameOfAgent = (index: number, agentId: string): string =>
  `${String(index).padStart(2, '0')}-${agentId}`

/** The agent id of a step name: after the first `-`, without a last `.ext` (`01-qa.md` → `qa`). */
export const agentIdOfStep = (stepName: string): string => {
  const dash = stepName.indexOf('-')
  const rest = dash >= 0 ? stepName.slice(dash + 1) : stepName
  const dot = rest.lastIndexOf('.')
  return dot > 0 ? rest.slice(0, dot) : rest
}

/**
 * Refuses agents whose prompt path (placeholders expanded) could leave the workspace: relative
 * paths may not climb with `..`, absolute ones must lie inside the workspace. Checked before
 * anything is stored, as a ConfigError at the agent's entry.
 */
export const checkPromptPaths = (
  workspace: CodeMachineWorkspace,
  roots: SpecRoots,
  file: (kind: 'main' | 'sub') => string,
): void => {
  for (const [kind, agents] of [
    ['main', workspace.main],
    ['sub', workspace.sub],
  ] as const)
    for (const { agent, at } of agents) {
      const path = expandPlaceholders(agent.prompt_path, workspace.placeholders)
      const problem = path.startsWith('/')
        ? isInside(roots.workspace, normalizePath(path))
          ? null
          : 'it lies outside the workspace'
        : relativePathProblem(path)
      if (problem)
        throw configError(
          file(kind),
          at,
          `prompt path ${JSON.stringify(agent.prompt_path)} of agent ${agent.id} is refused: ${problem}`,
        )
    }
}

/**
 * The ProtocolSpec of a workspace: one step per main agent, in order (CM-3), with the agent's
 * engine and model, its raw prompt path (expanded at validation and execution), an aux output
 * `outputs/<agent>.md`, the module policies attached to it, and the QA config of template.json
 * (`qa` object or `qaPolicy`; default `skip`). template.json's `engineDefaults.execute` /
 * `executeModel` become the protocol-wide engine and model.
 */
export const buildCodeMachineSpec = (workspace: CodeMachineWorkspace): ProtocolSpec => {
  const qa = qaOf(workspace.template)
  const defaults = objectAt(workspace.template, 'engineDefaults', 'engine_defaults')
  const engineId = textAt(defaults, 'execute', 'engine_id', 'engineId')
  const model = textAt(defaults, 'executeModel', 'execute_model')
  return {
    steps: workspace.main.map((loaded, index): StepSpec => {
      const { agent } = loaded
      const name = stepNameOfAgent(index, agent.id)
      return {
        id: agent.id,
        name,
        description: agent.description,
        engine_id: agent.engine_id,
        model: agent.model,
        prompt_ref: agent.prompt_path,
        outputs: { aux: { codemachine: `outputs/${agent.id}.md` } },
        step_type: inferStepType(name),
        policies: policiesFor(loaded, workspace.modules).map(
          (policy) => ({ ...policy }) as unknown as JsonObject,
        ),
        qa,
        order: index,
      }
    }),
    placeholders: { ...workspace.placeholders },
    template: workspace.template,
    ...(engineId ? { engine_id: engineId } : {}),
    ...(model ? { model } : {}),
  }
}

/** `template_config` without the spec: the persisted CodeMachine payload (CM-5). */
export const codeMachinePayload = (workspace: CodeMachineWorkspace): JsonObject => ({
  main_agents: workspace.main.map(({ agent }) => ({ ...agent })),
  sub_agents: workspace.sub.map(({ agent }) => ({ ...agent })),
  modules: workspace.modules.map((policy) => ({ ...policy }) as unknown as JsonObject),
  placeholders: { ...workspace.placeholders },
  template: workspace.template,
})

/** Modules no main agent picked up (a trigger nobody names): reported, never guessed. */
export const unattachedModules = (workspace: CodeMachineWorkspace): string[] =>
  workspace.modules
    .filter((module) => !workspace.main.some((agent) => policiesFor(agent, [module]).length > 0))
    .map((module) => module.module_id)

const qaOf = (template: JsonObject): QaSpec => {
  const qa = objectAt(template, 'qa')
  const policy = qa.policy ?? template.qaPolicy ?? template.qa_policy
  return {
    // Any other string is kept so that schema validation reports it instead of a silent skip.
    policy: typeof policy === 'string' ? (policy as QaSpec['policy']) : 'skip',
    prompt: textAt(qa, 'prompt') ?? null,
    ...(textAt(qa, 'model') ? { model: textAt(qa, 'model') } : {}),
    ...(textAt(qa, 'engine_id', 'engineId') ? { engine_id: textAt(qa, 'engine_id', 'engineId') } : {}),
  }
}

const objectAt = (value: JsonObject, ...keys: string[]): JsonObject => {
  for (const key of keys) {
    const found: JsonValue | undefined = value[key]
    if (isObject(found)) return found
  }
  return {}
}

const textAt = (value: JsonObject, ...keys: string[]): string | undefined => {
  for (const key of keys) {
    const found = value[key]
    if (typeof found === 'string' && found.trim()) return found
  }
  return undefined
}
