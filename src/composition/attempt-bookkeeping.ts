import type { DatabaseHandle } from '../adapters/storage/database.js'
import { batchAttemptBookkeeping, type AttemptBookkeeping } from '../adapters/storage/job-attempt-batches.js'
import type { JobRepository } from '../app/ports.js'

const bookkeepingByDatabase = new WeakMap<DatabaseHandle, AttemptBookkeeping>()

/** One per database handle (one per process): every job the process runs shares the round trips. */
export const attemptBookkeeping = (database: DatabaseHandle, jobs: JobRepository): AttemptBookkeeping => {
  let bookkeeping = bookkeepingByDatabase.get(database)
  if (!bookkeeping) {
    bookkeeping = batchAttemptBookkeeping(database, jobs)
    bookkeepingByDatabase.set(database, bookkeeping)
  }
  return bookkeeping
}
