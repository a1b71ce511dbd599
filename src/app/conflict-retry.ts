import pRetry from 'p-retry'
import { isAppError } from '../domain/app-error.js'
import type { Repositories, UnitOfWork } from './ports.js'

/**
 * Runs `work` in a transaction and, when it lost a race (ORC_STATE_CHANGED: a compare-and-set
 * another writer won, or a deadlock Postgres broke), runs it again from the start, up to three
 * times, on what is stored then. For writers nobody can ask to try again: a provider does not
 * redeliver a webhook answered 409 on its own. A user's request keeps its 409 instead, since
 * what the user asked for may no longer make sense.
 */
export const runRetryingConflicts = <T>(
  uow: UnitOfWork,
  work: (tx: Repositories) => Promise<T>,
): Promise<T> =>
  pRetry(() => uow.run(work), {
    retries: 3,
    minTimeout: 10,
    maxTimeout: 200,
    randomize: true,
    shouldRetry: (error) => isAppError(error) && error.code === 'ORC_STATE_CHANGED',
  })
