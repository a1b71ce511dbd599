import type { DataVersion } from '../../app/ports.js'

/**
 * One version read shared by the requests that ask in the same turn of the event loop. The read
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
