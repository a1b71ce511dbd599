import { describe, expect, it } from 'vitest'
import type { ProtocolStatus, StepStatus } from '../api/types.js'
import { isCodeMachineRun, protocolActions, stepActions, stepNeedingAttention } from './allowed-actions.js'

const steps = (...statuses: StepStatus[]) => statuses.map((status, step_index) => ({ status, step_index }))
const allowedSet = (status: ProtocolStatus, ...s: StepStatus[]) =>
  Object.entries(protocolActions({ status }, steps(...s)))
    .filter(([, a]) => a.allowed)
    .map(([name]) => name)
    .sort()

describe('allowed run actions', () => {
  it('offers start only to pending, planned and blocked runs', () => {
    expect(allowedSet('pending')).toEqual(['cancel', 'pause', 'start'])
    expect(allowedSet('planned', 'pending')).toEqual(['cancel', 'open_pr', 'pause', 'run_next_step', 'start'])
    expect(protocolActions({ status: 'planning' }, []).start).toEqual({
      allowed: false,
      reason: 'Planning is already under way',
    })
  })

  it('tells a paused run to resume, and offers nothing that would run work', () => {
    expect(allowedSet('paused', 'failed')).toEqual(['cancel', 'open_pr', 'resume'])
    expect(protocolActions({ status: 'paused' }, []).start.reason).toMatch(/resume/)
    expect(protocolActions({ status: 'paused' }, steps('pending')).run_next_step.reason).toMatch(/resume/)
  })

  it('offers run-next and retry only when a step can take them', () => {
    expect(allowedSet('running', 'completed', 'running')).toEqual(['cancel', 'open_pr', 'pause'])
    expect(allowedSet('blocked', 'completed', 'failed')).toEqual([
      'cancel',
      'open_pr',
      'pause',
      'retry_latest',
      'run_next_step',
      'start',
    ])
    expect(protocolActions({ status: 'running' }, steps('completed')).retry_latest.reason).toBe(
      'No failed or blocked step',
    )
  })

  it('leaves terminal runs alone, except opening a PR for finished work', () => {
    for (const status of ['completed', 'failed'] as const) {
      expect(allowedSet(status, 'completed')).toEqual(['open_pr'])
    }
    expect(allowedSet('cancelled', 'completed')).toEqual([])
    expect(protocolActions({ status: 'cancelled' }, []).cancel.reason).toBe('Already cancelled')
  })
})

describe('allowed step actions', () => {
  it('follows the step transition table and explains refusals', () => {
    const run = { status: 'running' as const }
    expect(stepActions(run, { status: 'needs_qa' })).toEqual({
      run: { allowed: false, reason: 'A needs qa step cannot be run' },
      run_qa: { allowed: true },
      approve: { allowed: true },
    })
    expect(stepActions(run, { status: 'running' }).approve.reason).toBe('The step is still running')
    expect(stepActions(run, { status: 'completed' }).run_qa.allowed).toBe(false)
    expect(stepActions(run, { status: 'failed' }).run.allowed).toBe(true)
  })

  it('refuses step work on paused and terminal runs', () => {
    expect(stepActions({ status: 'paused' }, { status: 'pending' }).run.reason).toMatch(/paused/)
    expect(stepActions({ status: 'cancelled' }, { status: 'needs_qa' }).approve.allowed).toBe(false)
  })

  it('points at the step waiting for a human, not the highest index', () => {
    const list = [
      { id: 1, status: 'needs_qa' as const, step_index: 0 },
      { id: 2, status: 'pending' as const, step_index: 1 },
    ]
    expect(stepNeedingAttention(list)?.id).toBe(1)
  })
})

describe('CodeMachine runs', () => {
  it('are recognised by their imported agents or a .codemachine protocol root', () => {
    expect(isCodeMachineRun({ template_config: { main_agents: [{ id: 'a' }] }, protocol_root: null })).toBe(
      true,
    )
    expect(isCodeMachineRun({ template_config: null, protocol_root: '/repo/ws/.codemachine' })).toBe(true)
    expect(
      isCodeMachineRun({ template_config: { main_agents: [] }, protocol_root: '/repo/.protocols/x' }),
    ).toBe(false)
  })
})
