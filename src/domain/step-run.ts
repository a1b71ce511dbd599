import type { EngineChain } from './engine-chain.js'
import type { JsonObject, JsonValue } from './json.js'
import type { StepStatus } from './statuses.js'

/** One unit of work inside a run, executed by an engine and gated by QA. */
export interface StepRun {
  readonly id: number
  readonly protocolRunId: number
  readonly stepIndex: number
  readonly stepName: string
  readonly stepType: string
  readonly status: StepStatus
  readonly retries: number
  readonly model: string | null
  readonly engineId: string | null
  /** Fallback chain given when the step was created through the API (engine-chain.ts). */
  readonly engines: EngineChain | null
  /** A policy object or a list of them (loop/trigger modules). */
  readonly policy: JsonValue | null
  readonly runtimeState: JsonObject | null
  readonly summary: string | null
  readonly tokensUsed: number
  readonly costUsd: number
  /** Commit the step's execution produced; CI results are matched against it. */
  readonly headSha: string | null
  /** Execution order within the run: grows each time the step records a new head SHA. */
  readonly headSeq: number | null
  readonly createdAt: string
  readonly updatedAt: string
}

export interface NewStepRun {
  readonly protocolRunId: number
  readonly stepIndex: number
  readonly stepName: string
  readonly stepType: string
  readonly status: StepStatus
  readonly model?: string | null
  readonly engineId?: string | null
  readonly engines?: EngineChain | null
  readonly policy?: JsonValue | null
  readonly summary?: string | null
}

/** Fields that may change together with a step's status. Absent keys are left as they are. */
export type StepRunPatch = Partial<
  Pick<
    StepRun,
    | 'summary'
    | 'model'
    | 'engineId'
    | 'runtimeState'
    | 'retries'
    | 'policy'
    | 'tokensUsed'
    | 'costUsd'
    | 'headSha'
  >
>

/** The step that produced the branch's latest commit; without any, the last step of the run. */
export const lastExecutedStep = (steps: readonly StepRun[]): StepRun | undefined => {
  const live = steps.filter((s) => s.status !== 'cancelled')
  const executed = live.filter((s) => s.headSeq !== null)
  const pool = executed.length > 0 ? executed : live
  const key = (x: StepRun) => (executed.length > 0 ? x.headSeq! : x.stepIndex)
  return pool.reduce<StepRun | undefined>(
    (last, s) => (last === undefined || key(s) >= key(last) ? s : last),
    undefined,
  )
}
