import type { ReadScope } from './ports.js'

/**
 * Reads asked for in one turn of the event loop, taken together in the check phase that follows:
 * each distinct key once, in one call for the whole batch. One read at a time: what is asked while
 * a read is under way waits and is read, all of it together, right after it answers. So
 *  - every read begins after everything it answers was asked (a caller never gets what was true
 *    before it asked),
 *  - answers arrive in the order they were taken (a late answer is never older than one used),
 *  - a busy server sends fewer and larger batches instead of queueing one round trip per turn.
 * Under load one read (a pragma with file-lock system calls on SQLite, a round trip on Postgres)
 * serves a whole batch instead of every request paying for its own.
 */
export const batchedPerTurn = <Key, Value>(
  readMany: (keys: readonly Key[]) => Promise<readonly Value[]>,
  keyOf: (key: Key) => string,
): ((key: Key) => Promise<Value>) => {
  let batch: Map<string, Asked<Key, Value>> | undefined
  let reading = false
  const readBatch = async (): Promise<void> => {
    const current = batch!
    batch = undefined
    reading = true
    await answer(readMany, current)
    reading = false
    if (batch !== undefined) setImmediate(() => void readBatch())
  }
  return (key) =>
    new Promise((resolve, reject) => {
      const name = keyOf(key)
      if (batch === undefined) {
        batch = new Map()
        if (!reading) setImmediate(() => void readBatch())
      }
      const asked = batch.get(name)
      if (asked === undefined) batch.set(name, { key, waiters: [{ resolve, reject }] })
      else asked.waiters.push({ resolve, reject })
    })
}

/**
 * Reads asked for in one turn of the event loop with the same key share one read, begun in the
 * check phase that follows, so it begins after each of them asked. Unlike batchedPerTurn, reads
 * are not taken one at a time: a read of another key or a later turn starts at once beside those
 * under way (a long read holds back only its own askers), and each key's read fails alone.
 */
export const sharedWithinTurn = <Key, Value>(
  readOne: (key: Key) => Promise<Value>,
  keyOf: (key: Key) => string,
): ((key: Key) => Promise<Value>) => {
  let turn: Map<string, Promise<Value>> | undefined
  return (key) => {
    if (turn === undefined) {
      const opened = new Map<string, Promise<Value>>()
      turn = opened
      // Queued before any of this turn's reads: once they begin, later asks open a new turn.
      setImmediate(() => {
        if (turn === opened) turn = undefined
      })
    }
    const name = keyOf(key)
    let read = turn.get(name)
    if (read === undefined) {
      read = new Promise<void>((resolve) => setImmediate(resolve)).then(() => readOne(key))
      turn.set(name, read)
    }
    return read
  }
}

/** A read scope's key for batchedPerTurn: one version read per scope per batch. */
export const readScopeKey = (scope: ReadScope): string => `${scope.kind}:${scope.id}`

/** One value read once per batch (batchedPerTurn with a single key). */
export const sharedPerTurn = <Value>(read: () => Promise<Value>): (() => Promise<Value>) => {
  const shared = batchedPerTurn<null, Value>(
    async () => [await read()],
    () => '',
  )
  return () => shared(null)
}

interface Asked<Key, Value> {
  readonly key: Key
  readonly waiters: Array<{ resolve: (value: Value) => void; reject: (error: unknown) => void }>
}

const answer = async <Key, Value>(
  readMany: (keys: readonly Key[]) => Promise<readonly Value[]>,
  batch: ReadonlyMap<string, Asked<Key, Value>>,
): Promise<void> => {
  const asked = [...batch.values()]
  try {
    const values = await readMany(asked.map((a) => a.key))
    if (values.length !== asked.length)
      throw new Error(`a batched read answered ${values.length} values for ${asked.length} keys`)
    // One value per key, in order; a value may itself be undefined.
    asked.forEach((a, i) => a.waiters.forEach((w) => w.resolve(values[i] as Value)))
  } catch (error) {
    asked.forEach((a) => a.waiters.forEach((w) => w.reject(error)))
  }
}
