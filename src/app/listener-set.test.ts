import { describe, expect, it } from 'vitest'
import { createListenerSet } from './listener-set.js'

describe('createListenerSet', () => {
  it('calls the listeners after one that throws, and reports what it threw', () => {
    const errors: unknown[] = []
    const set = createListenerSet<number>((error) => errors.push(error))
    const seen: string[] = []
    set.add((value) => seen.push(`first ${value}`))
    set.add(() => {
      throw new Error('a broken listener')
    })
    set.add((value) => seen.push(`third ${value}`))

    expect(() => set.call(7)).not.toThrow()
    expect(seen).toEqual(['first 7', 'third 7'])
    expect(errors).toEqual([new Error('a broken listener')])
  })

  it('stops calling a listener once removed, and calls none after clear', () => {
    const set = createListenerSet<number>(() => undefined)
    const seen: number[] = []
    const remove = set.add((value) => seen.push(value))
    const other: number[] = []
    set.add((value) => other.push(value))
    set.call(1)
    remove()
    set.call(2)
    set.clear()
    set.call(3)
    expect(seen).toEqual([1])
    expect(other).toEqual([1, 2])
  })

  it('does not call a listener removed by an earlier one during the same call', () => {
    const set = createListenerSet<number>(() => undefined)
    const seen: number[] = []
    let removeSecond = (): void => undefined
    set.add(() => removeSecond())
    removeSecond = set.add((value) => seen.push(value))
    set.call(1)
    expect(seen).toEqual([])
  })

  it('calls a listener added during a call from the next value on', () => {
    const set = createListenerSet<number>(() => undefined)
    const late: number[] = []
    set.add(() => {
      set.add((value) => late.push(value))
    })
    set.call(1)
    expect(late).toEqual([])
    set.call(2)
    expect(late).toEqual([2])
  })
})
