import { describe, expect, it } from 'vitest'
import type { ReadScope } from './ports.js'
import { batchedPerTurn, readScopeKey, sharedPerTurn, sharedWithinTurn } from './reads-per-turn.js'

/** A version source whose reads finish only when the test says so. */
const controlledReads = () => {
  const pending: Array<(version: string) => void> = []
  return {
    read: () => new Promise<string>((resolve) => pending.push(resolve)),
    started: () => pending.length,
    finish: (index: number, version: string) => pending[index]!(version),
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Until a read asked while another was under way has begun: it is scheduled in the check phase
 * after that one answered, one turn behind the caller that awaited the answer.
 */
const followUpRead = async () => {
  await nextTurn()
  await nextTurn()
}

describe('sharedPerTurn', () => {
  it('answers every caller of one turn with a single read taken after they all asked', async () => {
    const source = controlledReads()
    const version = sharedPerTurn(source.read)
    const answers = [version(), version(), version()]
    expect(source.started()).toBe(0)
    await nextTurn()
    expect(source.started()).toBe(1)
    source.finish(0, 'v1')
    expect(await Promise.all(answers)).toEqual(['v1', 'v1', 'v1'])
  })
})

describe('sharedPerTurn ordering', () => {
  it('never gives a caller a read that began before it asked, and starts a read only after the one before it answered', async () => {
    const source = controlledReads()
    const version = sharedPerTurn(source.read)
    const early = version()
    await nextTurn()
    const late = version()
    await nextTurn()
    expect(source.started()).toBe(1)
    source.finish(0, 'v1')
    expect(await early).toBe('v1')
    await followUpRead()
    expect(source.started()).toBe(2)
    source.finish(1, 'v2')
    expect(await late).toBe('v2')
  })

  it('answers everyone who asked during a read, over several turns, with one read after it', async () => {
    const source = controlledReads()
    const version = sharedPerTurn(source.read)
    const first = version()
    await nextTurn()
    const during = [version()]
    await nextTurn()
    during.push(version())
    await nextTurn()
    during.push(version())
    source.finish(0, 'v1')
    expect(await first).toBe('v1')
    await followUpRead()
    expect(source.started()).toBe(2)
    source.finish(1, 'v2')
    expect(await Promise.all(during)).toEqual(['v2', 'v2', 'v2'])
  })

  it('passes a failed read to everyone who waited on it, and reads afresh for the next', async () => {
    let calls = 0
    const version = sharedPerTurn(async () => {
      calls += 1
      if (calls === 1) throw new Error('database away')
      return 'v2'
    })
    const failed = [version(), version()]
    await expect(Promise.all(failed)).rejects.toThrow('database away')
    await expect(version()).resolves.toBe('v2')
  })
})

describe('batchedPerTurn answers', () => {
  it('refuses a read that answers fewer values than it was asked keys', async () => {
    const version = batchedPerTurn(async () => ['only one'], readScopeKey)
    const asked = [version({ kind: 'run', id: 1 }), version({ kind: 'run', id: 2 })]
    await expect(Promise.all(asked)).rejects.toThrow('answered 1 values for 2 keys')
  })
})

describe('batchedPerTurn', () => {
  const run = (id: number): ReadScope => ({ kind: 'run', id })

  it('reads a turn’s scopes in one call, each once, and the next turn’s only after it answered', async () => {
    const calls: Array<{ scopes: readonly ReadScope[]; answer: (versions: string[]) => void }> = []
    const version = batchedPerTurn(
      (scopes: readonly ReadScope[]) =>
        new Promise<string[]>((resolve) => calls.push({ scopes, answer: resolve })),
      readScopeKey,
    )
    const first = [version(run(1)), version(run(2)), version(run(1)), version({ kind: 'all', id: 0 })]
    await nextTurn()
    const second = version(run(1))
    await nextTurn()
    expect(calls.map((call) => call.scopes)).toEqual([[run(1), run(2), { kind: 'all', id: 0 }]])
    calls[0]!.answer(['r1', 'r2', 'all1'])
    expect(await Promise.all(first)).toEqual(['r1', 'r2', 'r1', 'all1'])
    await followUpRead()
    expect(calls).toHaveLength(2)
    calls[1]!.answer(['r1b'])
    expect(await second).toBe('r1b')
  })
  it('reads everything asked during a read, over several turns, in one read after it', async () => {
    const calls: Array<{ scopes: readonly ReadScope[]; answer: (versions: string[]) => void }> = []
    const version = batchedPerTurn(
      (scopes: readonly ReadScope[]) =>
        new Promise<string[]>((resolve) => calls.push({ scopes, answer: resolve })),
      readScopeKey,
    )
    const first = version(run(1))
    await nextTurn()
    const during = [version(run(2))]
    await nextTurn()
    during.push(version(run(3)))
    await nextTurn()
    during.push(version(run(2)))
    expect(calls).toHaveLength(1)
    calls[0]!.answer(['a'])
    expect(await first).toBe('a')
    await followUpRead()
    expect(calls.map((call) => call.scopes)).toEqual([[run(1)], [run(2), run(3)]])
    calls[1]!.answer(['b2', 'b3'])
    expect(await Promise.all(during)).toEqual(['b2', 'b3', 'b2'])
  })
})

describe('sharedWithinTurn', () => {
  /** Reads per key that finish only when the test says so. */
  const keyedReads = () => {
    const started: Array<{ key: string; finish: (value: string) => void; fail: (error: Error) => void }> = []
    return {
      read: (key: string) => new Promise<string>((finish, fail) => started.push({ key, finish, fail })),
      started,
    }
  }

  it('reads a key once for every caller of one turn, after they all asked, and each key apart', async () => {
    const source = keyedReads()
    const read = sharedWithinTurn(source.read, (key) => key)
    const answers = [read('a'), read('a'), read('b')]
    expect(source.started).toHaveLength(0)
    await nextTurn()
    expect(source.started.map((s) => s.key)).toEqual(['a', 'b'])
    source.started[0]!.finish('A')
    source.started[1]!.fail(new Error('b failed'))
    const settled = await Promise.allSettled(answers)
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      'A',
      'A',
      'b failed',
    ])
  })

  it("starts a later turn's read at once beside one under way, never sharing a read begun before the ask", async () => {
    const source = keyedReads()
    const read = sharedWithinTurn(source.read, (key) => key)
    const early = read('a')
    await nextTurn()
    const late = read('a')
    await nextTurn()
    expect(source.started).toHaveLength(2)
    source.started[1]!.finish('second')
    expect(await late).toBe('second')
    source.started[0]!.finish('first')
    expect(await early).toBe('first')
  })
})
