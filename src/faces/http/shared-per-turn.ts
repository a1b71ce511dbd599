import type { DataVersion, ReadScope, ScopeVersions } from '../../app/ports.js'

/**
 * One version read shared by the requests that ask in the same turn of the event loop (the live
 * event streams' polls; the read memo batches scopes with batchedPerTurn). The read
 * runs in the check phase that follows, after every one of them arrived, so each still sees all
 * commits made before it began; a request asking while a read is under way waits for the next.
 * Under load one read (a pragma with file-lock system calls on SQLite, a round trip on Postgres)
 * serves a whole batch instead of every request paying for its own. Reads never overlap, so
 * their answers arrive in the order they were taken.
 */
export const sharedPerTurn = (read: DataVersion): DataVersion => {
  let next: Promise<string | undefined> | undefined
  let previous: Promise<unknown> = Promise.resolve()
  return () =>
    (next ??= new Promise<string | undefined>((resolve, reject) =>
      setImmediate(() => {
        next = undefined
        const current = previous.then(() => read())
        previous = current.catch(() => undefined)
        current.then(resolve, reject)
      }),
    ))
}

/**
 * Scope versions asked for in one turn of the event loop, read together in the check phase that
 * follows (one statement for the whole batch on Postgres), each scope once. One read at a time:
 * what is asked while a read is under way waits and is read, all of it together, right after it
 * answers. So answers arrive in the order they were taken (a late answer is never older than one
 * already used), a busy server sends fewer and larger batches rather than a queue of small ones,
 * and every read still begins after everything it answers was asked.
 */
export const batchedPerTurn = (read: ScopeVersions): ((scope: ReadScope) => Promise<string | undefined>) => {
  let batch: Map<string, Asked> | undefined
  let reading = false
  const readBatch = async (): Promise<void> => {
    const current = batch!
    batch = undefined
    reading = true
    await flush(read, current)
    reading = false
    if (batch !== undefined) setImmediate(() => void readBatch())
  }
  return (scope) =>
    new Promise((resolve, reject) => {
      if (batch === undefined) {
        batch = new Map<string, Asked>()
        if (!reading) setImmediate(() => void readBatch())
      }
      const key = `${scope.kind}:${scope.id}`
      const asked = batch.get(key)
      if (asked === undefined) batch.set(key, { scope, waiters: [{ resolve, reject }] })
      else asked.waiters.push({ resolve, reject })
    })
}

interface Asked {
  readonly scope: ReadScope
  readonly waiters: Array<{
    resolve: (version: string | undefined) => void
    reject: (error: unknown) => void
  }>
}

const flush = async (read: ScopeVersions, batch: ReadonlyMap<string, Asked>): Promise<void> => {
  const asked = [...batch.values()]
  try {
    const versions = await read(asked.map((a) => a.scope))
    asked.forEach((a, i) => a.waiters.forEach((w) => w.resolve(versions[i])))
  } catch (error) {
    asked.forEach((a) => a.waiters.forEach((w) => w.reject(error)))
  }
}
