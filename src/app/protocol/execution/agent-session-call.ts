import { randomUUID } from 'node:crypto'
import { agentSessionOf, isAgentSessionId, type AgentSession } from '../../../domain/agent-session.js'
import type { ChangeOrigin } from '../../context.js'
import type { AgentSessionRequest } from '../../engine.port.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { callEngine, chooseEngine, type EngineCallInput, type EngineCallOutcome } from './engine-call.js'
import type { StepScope } from './step-context.js'

/**
 * One engine call of a step's execution that keeps its agent's conversation, when the engine's CLI
 * can resume one (claude, codex). The job's first call starts a session and stores its id on the
 * step (`runtime_state.agent_session`) as soon as the agent announces it, so a worker that dies
 * mid-step leaves it behind. A later call of the same job on the same engine (the retry after a
 * lost worker or a stall, or the job back from a usage-limit wait) resumes it (`session_resumed`);
 * when the CLI no longer knows it (`session_resume_failed`) a fresh session starts in the same call.
 */
export const callEngineInSession = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  input: EngineCallInput,
  ctx: ChangeOrigin,
): Promise<EngineCallOutcome> => {
  const jobId = input.sessionJobId
  const engineId = chooseEngine(deps, input).engineId
  if (!jobId || !deps.engines.has(engineId) || !deps.engines.get(engineId).resumesSessions)
    return callEngine(deps, input)
  const keep = { engine: engineId, jobId }
  const stored = agentSessionOf(context.step.runtimeState)
  if (stored?.engine !== engineId || stored.job_id !== jobId)
    return callKeeping(deps, context, input, { kind: 'start', id: randomUUID() }, keep)
  await recordSessionEvent(deps, context, stored, 'resumed', ctx)
  const resumed = await callKeeping(deps, context, input, { kind: 'resume', id: stored.id }, keep)
  if (resumed.kind !== 'done' || resumed.result.sessionMissing !== true) return resumed
  await recordSessionEvent(deps, context, stored, 'resume_failed', ctx)
  return callKeeping(deps, context, input, { kind: 'start', id: randomUUID() }, keep)
}

const callKeeping = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  input: EngineCallInput,
  session: AgentSessionRequest,
  keep: { readonly engine: string; readonly jobId: string },
): Promise<EngineCallOutcome> => {
  const stores: Array<Promise<unknown>> = []
  const onSessionId = (id: string) => {
    if (!isAgentSessionId(id)) return
    const agentSession: AgentSession = { engine: keep.engine, id, job_id: keep.jobId }
    stores.push(
      deps.uow.run((tx) =>
        tx.steps.mergeRuntimeState(context.step.id, { agent_session: { ...agentSession } }),
      ),
    )
  }
  const call = await callEngine(deps, { ...input, session, onSessionId })
  await Promise.all(stores)
  return call
}

const SESSION_TEXT = {
  resumed: (s: AgentSession) => `resumes its ${s.engine} session ${s.id}`,
  resume_failed: (s: AgentSession) =>
    `could not resume its ${s.engine} session ${s.id} (the CLI no longer has it); starting a new one`,
}

const recordSessionEvent = (
  deps: ProtocolJobDeps,
  context: StepScope,
  session: AgentSession,
  what: keyof typeof SESSION_TEXT,
  ctx: ChangeOrigin,
): Promise<unknown> =>
  deps.uow.run((tx) =>
    tx.events.append({
      projectId: context.run.projectId,
      protocolRunId: context.run.id,
      stepRunId: context.step.id,
      eventType: `session_${what}`,
      message: `Step ${context.step.stepName} ${SESSION_TEXT[what](session)}.`,
      metadata: {
        engine_id: session.engine,
        session_id: session.id,
        job_id: session.job_id,
        ...(ctx.requestId ? { request_id: ctx.requestId } : {}),
      },
    }),
  )
