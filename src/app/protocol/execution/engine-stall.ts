import { isAppError, type AppError } from '../../../domain/app-error.js'
import type { JsonObject } from '../../../domain/json.js'
import type { ProtocolRun } from '../../../domain/protocol-run.js'
import type { StepRun } from '../../../domain/step-run.js'
import type { EnginePhase } from '../../engine.port.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'

/** Whether an engine call ended because the agent printed nothing for the stall period. */
/** What a stalled call was doing (a slice of EngineCallInput and EngineUse). */
export interface StalledCall {
  readonly input: {
    readonly phase: EnginePhase
    readonly run: Pick<ProtocolRun, 'id' | 'projectId'>
    readonly stepRun?: Pick<StepRun, 'id'>
    readonly label: string
  }
  readonly use: { readonly engineId: string; readonly model: string | null }
  readonly error: AppError
}

export const isStall = (error: unknown): error is AppError =>
  isAppError(error) && error.code === 'ORC_ENGINE_STALLED'

/**
 * Records `engine_stalled` on the run (and step) with the agent's last output lines, before the
 * error goes on to the queue, which retries the job as a stall (category `stall`, an attempt
 * spent): a stall is the agent's fault this once, unlike a timeout, which fails the step.
 */
export const recordStall = async (deps: Pick<ProtocolJobDeps, 'uow'>, call: StalledCall): Promise<void> => {
  const { input, use, error } = call
  const lastLines = Array.isArray(error.details?.lastLines) ? (error.details.lastLines as string[]) : []
  const metadata: JsonObject = {
    phase: input.phase,
    engine_id: use.engineId,
    model: use.model,
    stall_seconds: Math.round(Number(error.details?.stallMs ?? 0) / 1000),
    last_lines: lastLines,
  }
  await deps.uow.run((tx) =>
    tx.events.append({
      projectId: input.run.projectId,
      protocolRunId: input.run.id,
      ...(input.stepRun ? { stepRunId: input.stepRun.id } : {}),
      eventType: 'engine_stalled',
      message: `${input.label}: ${error.message}; the job is retried.`,
      metadata,
    }),
  )
}
