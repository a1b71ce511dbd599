import type { JsonObject } from './json.js'

/**
 * The agent conversation a step's execution keeps (`runtime_state.agent_session`), so a later
 * attempt of the same job can resume it: which engine, its id, and the job that started it.
 */
export interface AgentSession {
  readonly engine: string
  readonly id: string
  readonly job_id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Session ids are UUIDs for both CLIs that resume; anything else an agent prints is ignored. */
export const isAgentSessionId = (id: unknown): id is string => typeof id === 'string' && UUID.test(id)

/** The session a step's runtime state holds, when it holds a well-formed one. */
export const agentSessionOf = (runtimeState: JsonObject | null | undefined): AgentSession | undefined => {
  const value = runtimeState?.agent_session
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { engine, id, job_id: jobId } = value
  if (typeof engine !== 'string' || typeof jobId !== 'string' || !isAgentSessionId(id)) return undefined
  return { engine, id, job_id: jobId }
}
