import type { Repositories, UnitOfWork } from './ports.js'
import type { JobPolicy } from './queue-runtime/enqueue.js'

/** What every use case may depend on; each takes the narrowest slice it needs. */
export interface AppDeps {
  readonly uow: UnitOfWork
  /** Repositories outside any transaction, for reads. */
  readonly repos: Repositories
  readonly jobPolicy: JobPolicy
  /** Signals running handlers of a run after its cancellation committed. */
  readonly abortRun: (protocolRunId: number) => Promise<void>
}
