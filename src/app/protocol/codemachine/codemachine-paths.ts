import { join } from 'node:path'
import { agentIdOfStep } from '../../../domain/codemachine/import-spec.js'
import { resolveCodeMachineStep, type CodeMachineStepPaths } from '../../../domain/codemachine/step-paths.js'
import type { PathProbe } from '../../../domain/spec-paths.js'
import type { CodeMachineAgent } from '../../../domain/codemachine/workspace-config.js'
import type { JsonValue } from '../../../domain/json.js'
import type { StepScope } from '../execution/step-context.js'

/** The main agent whose id is the step name's agent part (CM-7). */
export const findCodeMachineAgent = (context: StepScope): CodeMachineAgent | undefined => {
  const id = agentIdOfStep(context.step.stepName)
  const agents: JsonValue = context.run.templateConfig?.main_agents ?? []
  if (!Array.isArray(agents)) return undefined
  const found = agents.find(
    (agent) =>
      typeof agent === 'object' &&
      agent !== null &&
      !Array.isArray(agent) &&
      (agent.id ?? agent.agent_id) === id,
  )
  return found as unknown as CodeMachineAgent | undefined
}

/** The prompt and output paths of a CodeMachine step in `workspace`, as its execution resolves them. */
export const codeMachineStepPaths = (
  context: StepScope,
  agent: CodeMachineAgent,
  workspace: string,
  probe: PathProbe,
): CodeMachineStepPaths | { readonly error: string } => {
  const root = context.run.protocolRoot ?? join(workspace, '.codemachine')
  const roots = { workspace, root, protocolName: context.run.protocolName }
  return resolveCodeMachineStep(context.stepSpec, context.step.stepName, agent, {
    spec: context.spec,
    roots,
    probe,
  })
}
