import { describe, expect, it } from 'vitest'
import { coalesce } from './coalesce.js'

/** A batch operation whose batches the test releases by hand, recording what each one held. */
const gated = () => {
  const batches: string[][] = []
  const gates: Array<(ok: boolean) => void> = []
  const flush = (inputs: readonly string[]) => {
    batches.push([...inputs])
    return new Promise<string[]>((resolve, reject) =>
      gates.push((ok) =>
        ok ? resolve(inputs.map((input) => input.toUpperCase())) : reject(new Error('down')),
      ),
    )
  }
  const settle = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve))
  }
  return {
    batches,
    /** Answers the batch in flight (or fails it), then lets the next one go out. */
    release: async (ok = true) => {
      gates.shift()?.(ok)
      await settle()
    },
    settle,
    call: coalesce(flush, (input: string) => input.split(':')[0]!),
  }
}

describe('coalesce', () => {
  it('sends a lone call at once and the calls made meanwhile together, each with its own answer', async () => {
    const op = gated()
    const first = op.call('a')
    await op.settle()
    expect(op.batches).toEqual([['a']])
    const rest = [op.call('b'), op.call('c'), op.call('d')]
    await op.release()
    expect(op.batches).toEqual([['a'], ['b', 'c', 'd']])
    await op.release()
    expect(await first).toBe('A')
    expect(await Promise.all(rest)).toEqual(['B', 'C', 'D'])
  })

  it('never puts two calls with the same key in one batch', async () => {
    const op = gated()
    const calls = [op.call('x:1'), op.call('x:2'), op.call('y:1')]
    await op.settle()
    await op.release()
    await op.release()
    await op.release()
    expect(op.batches).toEqual([['x:1'], ['x:2', 'y:1']])
    expect(await Promise.all(calls)).toEqual(['X:1', 'X:2', 'Y:1'])
  })

  it('rejects the calls of a failed batch only', async () => {
    const op = gated()
    const first = op.call('a')
    await op.settle()
    const second = [op.call('b'), op.call('c')].map((call) => expect(call).rejects.toThrow('down'))
    await op.release()
    await op.release(false)
    const third = op.call('d')
    await op.settle()
    await op.release()
    expect(op.batches).toEqual([['a'], ['b', 'c'], ['d']])
    expect(await first).toBe('A')
    await Promise.all(second)
    expect(await third).toBe('D')
  })
})
