import type { CommitListener } from '../app/ports.js'

/**
 * The one place a process's commits and run aborts are announced. The unit of work publishes every
 * commit here; the live signal and (when this process runs one) the queue subscribe. A queue built
 * after the unit of work subscribes instead of being late-bound; with no queue subscribed, aborts
 * reach no handler here (workers also notice a cancelled run on their next lease renewal).
 */
export interface CommitBus {
  /** The unit of work's commit listener. */
  readonly publish: CommitListener
  /** Tells every subscribed queue that a run's cancellation committed. */
  abortRun(protocolRunId: number): Promise<void>
  subscribe(subscriber: BusSubscriber): () => void
}

export interface BusSubscriber {
  readonly onCommit?: CommitListener
  readonly abortRun?: (protocolRunId: number) => Promise<void>
}

export const createCommitBus = (): CommitBus => {
  const subscribers = new Set<BusSubscriber>()
  return {
    publish: (committed) => {
      for (const subscriber of subscribers) subscriber.onCommit?.(committed)
    },
    abortRun: async (protocolRunId) => {
      await Promise.all([...subscribers].map((subscriber) => subscriber.abortRun?.(protocolRunId)))
    },
    subscribe: (subscriber) => {
      subscribers.add(subscriber)
      return () => subscribers.delete(subscriber)
    },
  }
}
