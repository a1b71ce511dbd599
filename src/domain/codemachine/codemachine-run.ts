import type { ProtocolRun } from '../protocol-run.js'

/** A CodeMachine run: imported agents in its template, or a protocol root inside `.codemachine` (EX-3). */
export const isCodeMachineRun = (run: Pick<ProtocolRun, 'templateConfig' | 'protocolRoot'>): boolean => {
  const agents = run.templateConfig?.main_agents
  return (
    (Array.isArray(agents) && agents.length > 0) ||
    (run.protocolRoot?.split('/').includes('.codemachine') ?? false)
  )
}
