import type { ProtocolActionName, StepActionName } from '../api/endpoints.js'
import type { ProtocolRun, ProtocolStatus, StepRun, StepStatus } from '../api/types.js'

/** Whether a button is usable, and if not, the sentence its tooltip shows. */
export interface Allowed {
  readonly allowed: boolean
  readonly reason?: string
}

const ok: Allowed = { allowed: true }
const no = (reason: string): Allowed => ({ allowed: false, reason })

const TERMINAL: readonly ProtocolStatus[] = ['cancelled', 'completed', 'failed']
const ACTIVE: readonly ProtocolStatus[] = ['pending', 'planning', 'planned', 'running', 'blocked']
const RUNNABLE_STEP: readonly StepStatus[] = ['pending', 'blocked', 'failed']
const RETRYABLE_STEP: readonly StepStatus[] = ['failed', 'blocked']
const QA_STEP: readonly StepStatus[] = ['pending', 'running', 'needs_qa', 'failed', 'blocked']
const APPROVABLE_STEP: readonly StepStatus[] = ['needs_qa', 'blocked', 'failed', 'pending']

/**
 * Which run actions the console offers, mirroring the server's transition table. The server stays
 * the authority: a refused action still shows its 409 detail in place.
 */
export const protocolActions = (
  run: Pick<ProtocolRun, 'status'>,
  steps: readonly Pick<StepRun, 'status'>[],
): Record<ProtocolActionName, Allowed> => {
  const status = run.status
  const terminal = TERMINAL.includes(status) ? no(`The run is ${status}`) : undefined
  const paused = status === 'paused' ? no('The run is paused: resume it first') : undefined
  return {
    start:
      status === 'paused'
        ? no('The run is paused: resume it instead')
        : ['pending', 'planned', 'blocked'].includes(status)
          ? ok
          : no(status === 'planning' ? 'Planning is already under way' : `A ${status} run cannot be started`),
    pause:
      status === 'paused'
        ? no('Already paused')
        : (terminal ?? (ACTIVE.includes(status) ? ok : no('Not active'))),
    resume: status === 'paused' ? ok : no('Only a paused run can be resumed'),
    cancel: status === 'cancelled' ? no('Already cancelled') : (terminal ?? ok),
    run_next_step:
      terminal ??
      paused ??
      (steps.some((s) => RUNNABLE_STEP.includes(s.status)) ? ok : no('No pending, failed or blocked step')),
    retry_latest:
      terminal ??
      paused ??
      (steps.some((s) => RETRYABLE_STEP.includes(s.status)) ? ok : no('No failed or blocked step')),
    open_pr:
      status === 'cancelled'
        ? no('The run is cancelled')
        : steps.length === 0
          ? no('Nothing to propose yet: the run has no steps')
          : ok,
  }
}

/** Which step actions the console offers for one step of a run. */
export const stepActions = (
  run: Pick<ProtocolRun, 'status'>,
  step: Pick<StepRun, 'status'>,
): Record<StepActionName, Allowed> => {
  const blockedByRun = TERMINAL.includes(run.status)
    ? no(`The run is ${run.status}`)
    : run.status === 'paused'
      ? no('The run is paused: resume it first')
      : undefined
  const s = step.status
  return {
    run: blockedByRun ?? (RUNNABLE_STEP.includes(s) ? ok : no(`A ${label(s)} step cannot be run`)),
    run_qa: blockedByRun ?? (QA_STEP.includes(s) ? ok : no(`A ${label(s)} step needs no QA`)),
    approve: APPROVABLE_STEP.includes(s)
      ? (blockedByRun ?? ok)
      : no(s === 'running' ? 'The step is still running' : `A ${label(s)} step cannot be approved`),
  }
}

/** The step a person most likely wants to act on: the one waiting for QA, else the first runnable. */
export const stepNeedingAttention = <S extends Pick<StepRun, 'status' | 'step_index'>>(
  steps: readonly S[],
): S | undefined =>
  steps.find((s) => s.status === 'needs_qa') ??
  steps.find((s) => s.status === 'failed' || s.status === 'blocked') ??
  steps.find((s) => s.status === 'pending')

const label = (status: string) => status.replace('_', ' ')

/**
 * An imported CodeMachine run (agents in its template, or a protocol root in `.codemachine`): the
 * server starts it at its first step instead of planning it.
 */
export const isCodeMachineRun = (run: Pick<ProtocolRun, 'template_config' | 'protocol_root'>): boolean => {
  const agents = run.template_config?.main_agents
  return (
    (Array.isArray(agents) && agents.length > 0) ||
    (run.protocol_root?.split('/').includes('.codemachine') ?? false)
  )
}
