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
 * follows (one statement for the whole batch on Postgres), each scope once. As in sharedPerTurn,
 * reads never overlap: a batch is read after the one before it answered, so answers arrive in the
 * order they were taken, and a late answer can never be older than one already used.
 */
export const batchedPerTurn = (read: ScopeVersions): ((scope: ReadScope) => Promise<string | undefined>) => {
  let batch: Map<string, Asked> | undefined
  let previous: Promise<void> = Promise.resolve()
  return (scope) =>
    new Promise((resolve, reject) => {
      if (batch === undefined) {
        const current = new Map<string, Asked>()
        batch = current
        setImmediate(() => {
          batch = undefined
          previous = previous.then(() => flush(read, current))
        })
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
