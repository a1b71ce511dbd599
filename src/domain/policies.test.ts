import { describe, expect, it } from 'vitest'
import type { JsonObject } from './json.js'
import { agentIdOfStep, policiesOf, type PolicyStep } from './policies.js'
import { decideLoop, decideTrigger } from './policy-decisions.js'
import type { StepStatus } from './statuses.js'

const step = (
  stepIndex: number,
  status: StepStatus = 'completed',
  runtimeState: JsonObject | null = null,
  stepName = `${String(stepIndex).padStart(2, '0')}-agent${stepIndex}`,
): PolicyStep => ({ id: 100 + stepIndex, stepIndex, stepName, status, runtimeState })

const loop = (extra: JsonObject = {}) => policiesOf({ module_id: 'again', behavior: 'loop', ...extra })
const trigger = (extra: JsonObject = {}) =>
  policiesOf({ module_id: 'fire', behavior: 'trigger', trigger_agent_id: 'agent3', ...extra })

describe('policy parsing', () => {
  it('reads a single object, a list, or the spec policies when the step has none', () => {
    expect(policiesOf({ behavior: 'loop' })[0]).toMatchObject({
      moduleId: 'loop',
      maxIterations: 3,
      stepBack: 1,
    })
    expect(
      policiesOf([{ behavior: 'trigger' }, 'junk', { behavior: 'LOOP' }]).map((p) => p.behavior),
    ).toEqual(['trigger', 'loop'])
    expect(policiesOf(null, [{ module_id: 'm', behavior: 'loop' }])[0]?.moduleId).toBe('m')
    expect(policiesOf([], [{ behavior: 'loop' }])).toHaveLength(1)
  })

  it('collects condition tokens from strings, lists and objects, lowercased', () => {
    const [policy] = policiesOf({
      behavior: 'loop',
      condition: ' QA_Failed ',
      conditions: [['exec_failed'], { on: 'CI_FAILED', other: 'ignored' }],
    })
    expect(policy?.conditions).toEqual(['qa_failed', 'exec_failed', 'ci_failed'])
  })

  it('keeps 0 as 0 for step_back and max_iterations (the original read 0 as absent)', () => {
    expect(loop({ step_back: 0, max_iterations: 0 })[0]).toMatchObject({ stepBack: 0, maxIterations: 0 })
  })

  it('derives agent ids from step names', () => {
    expect(agentIdOfStep('00-build')).toBe('build')
    expect(agentIdOfStep('01-qa.md')).toBe('qa')
    expect(agentIdOfStep('02-code-review.md')).toBe('code-review')
  })
})

describe('decideLoop', () => {
  const steps = [step(0), step(1), step(2, 'failed'), step(3, 'pending'), step(4, 'cancelled')]

  it('steps back one step by default and resets every non-cancelled step from there', () => {
    const { plan, notes } = decideLoop(loop(), 'qa_failed', steps[2]!, steps)
    expect(notes).toEqual([])
    expect(plan).toMatchObject({ targetIndex: 1, iterations: 1 })
    expect(plan?.reset.map((s) => s.stepIndex)).toEqual([1, 2, 3])
  })

  it('step_back 0 retries the failing step itself', () => {
    const { plan } = decideLoop(loop({ step_back: 0 }), 'exec_failed', steps[2]!, steps)
    expect(plan?.targetIndex).toBe(2)
    expect(plan?.reset.map((s) => s.stepIndex)).toEqual([2, 3])
  })

  it('moves further back over skipped steps and leaves them alone', () => {
    const { plan } = decideLoop(loop({ step_back: 1, skip_steps: [1] }), 'qa_failed', steps[2]!, steps)
    expect(plan?.targetIndex).toBe(0)
    expect(plan?.reset.map((s) => s.stepIndex)).toEqual([0, 2, 3])
  })

  it('stops at the limit (3 by default) with loop_limit_reached', () => {
    const source = step(2, 'failed', { loop_counts: { again: 3 } })
    const { plan, notes } = decideLoop(loop(), 'qa_failed', source, steps)
    expect(plan).toBeUndefined()
    expect(notes).toEqual([
      expect.objectContaining({
        type: 'loop_limit_reached',
        stepId: source.id,
        metadata: expect.objectContaining({ iterations: 3, max_iterations: 3 }),
      }),
    ])
    expect(decideLoop(loop({ max_iterations: 0 }), 'qa_failed', steps[2]!, steps).plan).toBeUndefined()
  })

  it('skips a loop whose condition names another reason, and lets the next policy act', () => {
    const policies = [
      ...loop({ module_id: 'only-ci', conditions: ['ci_failed'] }),
      ...loop({ module_id: 'qa', condition: 'qa_failed', step_back: 0 }),
    ]
    const { plan, notes } = decideLoop(policies, 'qa_failed', steps[2]!, steps)
    expect(notes.map((n) => n.type)).toEqual(['loop_condition_skipped'])
    expect(plan?.policy.moduleId).toBe('qa')
  })
})

describe('decideTrigger', () => {
  const steps = [step(0), step(1), step(2, 'completed'), step(3, 'pending')]
  const source = step(2, 'completed', { job_id: 'exec-7' })

  it('fires on a completion by default, never on exec_completed, so the target does not run twice', () => {
    expect(decideTrigger(trigger(), 'qa_passed', source, steps, 3).plan).toMatchObject({
      target: { stepIndex: 3 },
      depth: 1,
      attempt: 'exec-7',
    })
    const early = decideTrigger(trigger(), 'exec_completed', source, steps, 3)
    expect(early.plan).toBeUndefined()
    expect(early.notes.map((n) => n.type)).toEqual(['trigger_condition_skipped'])
  })

  it('fires once per source execution', () => {
    const fired = step(2, 'completed', { job_id: 'exec-7', triggers_fired: { fire: 'exec-7' } })
    const policies = trigger({ conditions: ['exec_completed', 'qa_passed'] })
    const again = decideTrigger(policies, 'qa_passed', fired, steps, 3)
    expect(again.plan).toBeUndefined()
    expect(again.notes[0]).toMatchObject({
      type: 'trigger_skipped',
      metadata: { skip_reason: 'already_fired' },
    })
    const next = step(2, 'completed', { job_id: 'exec-8', triggers_fired: { fire: 'exec-7' } })
    expect(decideTrigger(policies, 'qa_passed', next, steps, 3).plan).toBeDefined()
  })

  it('reports a missing target agent and skips completed, cancelled or running targets', () => {
    const missing = decideTrigger(trigger({ trigger_agent_id: 'nobody' }), 'qa_passed', source, steps, 3)
    expect(missing.notes.map((n) => n.type)).toEqual(['trigger_missing_target'])
    for (const status of ['completed', 'cancelled', 'running'] as const) {
      const decision = decideTrigger(
        trigger(),
        'qa_passed',
        source,
        [...steps.slice(0, 3), step(3, status)],
        3,
      )
      expect(decision.plan).toBeUndefined()
      expect(decision.notes[0]).toMatchObject({
        type: 'trigger_skipped',
        metadata: { target_status: status },
      })
    }
  })

  it('refuses past the depth limit before changing anything, on the target, so it is not left reset and pending', () => {
    const deep = step(2, 'completed', { inline_trigger_depth: 2 })
    const decision = decideTrigger(trigger(), 'qa_passed', deep, steps, 3)
    expect(decision.plan).toBeUndefined()
    expect(decision.notes).toEqual([
      expect.objectContaining({
        type: 'trigger_inline_depth_exceeded',
        stepId: steps[3]!.id,
        metadata: expect.objectContaining({ inline_depth: 3, max_depth: 3 }),
      }),
    ])
    expect(
      decideTrigger(trigger(), 'qa_passed', step(2, 'completed', { inline_trigger_depth: 1 }), steps, 3).plan
        ?.depth,
    ).toBe(2)
  })
})
