import type { JsonObject } from '../domain/json.js'
import type { ProtocolRun, ProtocolRunPatch } from '../domain/protocol-run.js'
import type { StepRun, StepRunPatch } from '../domain/step-run.js'
import {
  nextProtocolStatus,
  nextStepStatus,
  type ProtocolAction,
  type StepAction,
} from '../domain/transitions.js'
import { withTrace, type ChangeOrigin } from './context.js'
import type { Repositories } from './ports.js'

/** The event a status change records, in the same transaction as the change. */
export interface ChangeEvent {
  readonly type: string
  readonly message: string
  readonly metadata?: JsonObject
}

/**
 * Applies `action` to a run as read by the caller: the transition table decides the new status
 * (ORC_INVALID_TRANSITION otherwise), the write is a compare-and-set on the status the caller saw
 * (ORC_STATE_CHANGED if someone else moved it), and the event is appended alongside.
 * Call inside UnitOfWork.run so both commit together.
 */
export const changeRunStatus = async (
  repos: Pick<Repositories, 'runs' | 'events'>,
  run: ProtocolRun,
  action: ProtocolAction,
  {
    event,
    origin: ctx,
    patch,
  }: { readonly event: ChangeEvent; readonly origin: ChangeOrigin; readonly patch?: ProtocolRunPatch },
): Promise<ProtocolRun> => {
  const to = nextProtocolStatus(run.status, action)
  const updated = await repos.runs.compareAndSetStatus(run.id, [run.status], to, patch)
  await repos.events.append({
    projectId: run.projectId,
    protocolRunId: run.id,
    eventType: event.type,
    message: event.message,
    metadata: withTrace(event.metadata, ctx),
  })
  return updated
}

/** As changeRunStatus, for a step; the event is attached to the step and its run. */
export const changeStepStatus = async (
  repos: Pick<Repositories, 'steps'>,
  run: Pick<ProtocolRun, 'id' | 'projectId'>,
  step: StepRun,
  {
    action,
    event,
    origin: ctx,
    patch,
    runtimeMerge,
  }: {
    readonly action: StepAction
    readonly event: ChangeEvent
    readonly origin: ChangeOrigin
    readonly patch?: StepRunPatch
    /** Keys merged into `runtime_state` by the same write (mergeRuntimeState's rules). */
    readonly runtimeMerge?: JsonObject
  },
): Promise<StepRun> => {
  const to = nextStepStatus(step.status, action)
  const moved = await repos.steps.compareAndSetStatusWithEvent(
    step.id,
    [step.status],
    to,
    runtimeMerge ? { ...patch, runtimeMerge } : patch,
    {
      projectId: run.projectId,
      protocolRunId: run.id,
      stepRunId: step.id,
      eventType: event.type,
      message: event.message,
      metadata: withTrace(event.metadata, ctx),
    },
  )
  return moved.step
}
