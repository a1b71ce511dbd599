import { describe, expect, it } from 'vitest'
import { decomposeTargets, isSimpleStep, refinedStepText } from './decompose.js'

describe('decomposition', () => {
  it('targets numbered step files after step zero, sorted, and never the protocol files', () => {
    expect(
      decomposeTargets([
        '10-ship.md',
        '02-b.md',
        '00-setup.md',
        'plan.md',
        'context.md',
        'log.md',
        '01-a.md',
      ]),
    ).toEqual(['01-a.md', '02-b.md', '10-ship.md'])
  })

  it('calls a step simple when it is short with at most three tasks', () => {
    expect(isSimpleStep('# Build\n\n- one\n- two\n')).toBe(true)
    expect(isSimpleStep('# Build\n\n- one\n- two\n- three\n1. four\n')).toBe(false)
    expect(isSimpleStep(`# Build\n\n${'word '.repeat(100)}`)).toBe(false)
  })

  it('unwraps a fenced answer and refuses an empty one', () => {
    expect(refinedStepText('```markdown\n# Step\n\n1. a\n```\n')).toBe('# Step\n\n1. a\n')
    expect(refinedStepText('# Step\n1. a')).toBe('# Step\n1. a\n')
    expect(refinedStepText('  \n')).toBeUndefined()
  })
})
