import type { Repositories, UnitOfWork } from '../../src/app/ports.js'
import { emptyTables, protocolRepositories, type ProtocolTables } from './protocol-store.fake.js'

/**
 * An in-memory UnitOfWork over the protocol tables. `run` works on a copy and swaps it in only when
 * `work` resolves, so a transaction that throws leaves no write behind (as a rolled-back one).
 */
export interface FakeUnitOfWork extends UnitOfWork {
  /** The committed rows; a test seeds and inspects them here. */
  readonly tables: () => ProtocolTables
  /** Repositories outside any transaction (AppDeps.repos). */
  readonly repos: Repositories
  /** How many transactions committed. */
  readonly commits: () => number
}

/**
 * The repositories the fake holds, typed as the whole set the use cases ask for. Only the protocol
 * ones exist; a use case reaching for another (notifications, leases…) fails loudly on undefined.
 */
const asRepositories = (tables: () => ProtocolTables): Repositories => {
  const view = {
    get projects() {
      return protocolRepositories(tables()).projects
    },
    get runs() {
      return protocolRepositories(tables()).runs
    },
    get steps() {
      return protocolRepositories(tables()).steps
    },
    get events() {
      return protocolRepositories(tables()).events
    },
    get jobs() {
      return protocolRepositories(tables()).jobs
    },
  }
  // The other repositories are deliberately absent (see above); the cast names that choice once.
  return view as unknown as Repositories
}

export const createFakeUnitOfWork = (seed: ProtocolTables = emptyTables()): FakeUnitOfWork => {
  let committed = structuredClone(seed)
  let commits = 0
  return {
    tables: () => committed,
    repos: asRepositories(() => committed),
    commits: () => commits,
    run: async (work) => {
      const draft = structuredClone(committed)
      const result = await work(asRepositories(() => draft))
      committed = draft
      commits += 1
      return result
    },
  }
}
