import { describe, expect, it } from 'vitest'
import { isAppError } from './app-error.js'
import { PROTOCOL_STATUSES, STEP_STATUSES } from './statuses.js'
import {
  nextProtocolStatus,
  nextStepStatus,
  PROTOCOL_TRANSITIONS,
  STEP_TRANSITIONS,
  type ProtocolAction,
  type StepAction,
} from './transitions.js'

const refusalOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (error) {
    if (isAppError(error) && error.code === 'ORC_INVALID_TRANSITION') return error.message
    throw error
  }
}

describe('protocol transition table', () => {
  it('never lets a cancelled, completed or failed run change status, but re-opens a completed one for its open PR', () => {
    for (const status of ['cancelled', 'completed', 'failed'] as const) {
      for (const action of Object.keys(PROTOCOL_TRANSITIONS) as ProtocolAction[]) {
        // Review comments and base-branch conflicts on a completed run's open PR are more work.
        if (status === 'completed' && action === 'reopen') continue
        expect(
          refusalOf(() => nextProtocolStatus(status, action)),
          `${status} + ${action}`,
        ).toBeDefined()
      }
    }
  })

  it('re-opens only a completed, blocked, planned or running run', () => {
    expect(nextProtocolStatus('completed', 'reopen')).toBe('running')
    expect(refusalOf(() => nextProtocolStatus('cancelled', 'reopen'))).toBeDefined()
    expect(refusalOf(() => nextProtocolStatus('paused', 'reopen'))).toBeDefined()
  })

  it('refuses new step work on a paused run and says to resume it', () => {
    expect(refusalOf(() => nextProtocolStatus('paused', 'run'))).toBe(
      'Protocol is paused; resume it before running steps',
    )
    expect(nextProtocolStatus('paused', 'resume')).toBe('running')
  })

  it('keeps the original refusal messages for start, pause and resume', () => {
    expect(refusalOf(() => nextProtocolStatus('running', 'start'))).toBe(
      'Protocol already running or terminal',
    )
    expect(refusalOf(() => nextProtocolStatus('completed', 'pause'))).toBe('Protocol already terminal')
    expect(refusalOf(() => nextProtocolStatus('running', 'resume'))).toBe('Protocol is not paused')
  })

  it('starts pending, planned and blocked runs into planning, but not paused ones', () => {
    for (const status of ['pending', 'planned', 'blocked'] as const) {
      expect(nextProtocolStatus(status, 'start')).toBe('planning')
    }
    expect(refusalOf(() => nextProtocolStatus('paused', 'start'))).toMatch(/resume/)
  })

  it('does not complete a paused or pending run behind the user', () => {
    expect(refusalOf(() => nextProtocolStatus('paused', 'complete'))).toBeDefined()
    expect(refusalOf(() => nextProtocolStatus('pending', 'complete'))).toBeDefined()
    expect(nextProtocolStatus('running', 'complete')).toBe('completed')
  })

  it('answers every status × action pair exactly as the table lists it', () => {
    for (const [action, rule] of Object.entries(PROTOCOL_TRANSITIONS)) {
      for (const status of PROTOCOL_STATUSES) {
        const allowed = (rule.from as readonly string[]).includes(status)
        const outcome = refusalOf(() => nextProtocolStatus(status, action as ProtocolAction))
        expect(outcome === undefined, `${status} + ${action}`).toBe(allowed)
      }
    }
  })
})

describe('step transition table', () => {
  it('approves only steps that are pending, awaiting QA, failed or blocked', () => {
    const approvable = STEP_STATUSES.filter(
      (s) => refusalOf(() => nextStepStatus(s, 'approve')) === undefined,
    )
    expect(approvable.sort()).toEqual(['blocked', 'failed', 'needs_qa', 'pending'])
  })

  it('cancels failed and blocked steps with their run, and leaves completed ones alone', () => {
    expect(nextStepStatus('failed', 'cancel')).toBe('cancelled')
    expect(nextStepStatus('blocked', 'cancel')).toBe('cancelled')
    expect(refusalOf(() => nextStepStatus('completed', 'cancel'))).toBeDefined()
  })

  it('never resets a running or cancelled step through a policy', () => {
    expect(refusalOf(() => nextStepStatus('running', 'reset'))).toBeDefined()
    expect(refusalOf(() => nextStepStatus('cancelled', 'reset'))).toBeDefined()
  })

  it('answers every status × action pair exactly as the table lists it', () => {
    for (const [action, rule] of Object.entries(STEP_TRANSITIONS)) {
      for (const status of STEP_STATUSES) {
        const allowed = (rule.from as readonly string[]).includes(status)
        const outcome = refusalOf(() => nextStepStatus(status, action as StepAction))
        expect(outcome === undefined, `${status} + ${action}`).toBe(allowed)
      }
    }
  })
})
