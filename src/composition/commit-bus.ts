import { createListenerSet } from '../app/listener-set.js'
import type { CommitListener, Committed } from '../app/ports.js'
import type { Logger } from '../logging.js'

/**
 * The one place a process's commits and run aborts are announced. The unit of work publishes every
 * commit here; the live signal and (when this process runs one) the queue subscribe. A queue built
 * after the unit of work subscribes instead of being late-bound; with no queue subscribed, aborts
 * reach no handler here (workers also notice a cancelled run on their next lease renewal).
 * A subscriber that throws on a commit is logged and the others are still told: the commit is done,
 * and its caller must not take a subscriber's failure for its write's.
 */
export interface CommitBus {
  /** The unit of work's commit listener. */
  readonly publish: CommitListener
  /**
   * Tells every subscribed queue that a run's cancellation committed. A queue that cannot be told
   * (Redis down) is logged, not thrown: the cancel is done, and workers see it at their next lease
   * renewal.
   */
  abortRun(protocolRunId: number): Promise<void>
  subscribe(subscriber: BusSubscriber): () => void
}

export interface BusSubscriber {
  readonly onCommit?: CommitListener
  readonly abortRun?: (protocolRunId: number) => Promise<void>
}

export const createCommitBus = (logger: Logger): CommitBus => {
  const subscribers = new Set<BusSubscriber>()
  const commitListeners = createListenerSet<Committed>((error) =>
    logger.error({ err: error }, 'a commit listener failed'),
  )
  return {
    publish: commitListeners.call,
    abortRun: async (protocolRunId) => {
      const told = [...subscribers].map((subscriber) => subscriber.abortRun?.(protocolRunId))
      for (const outcome of await Promise.allSettled(told))
        if (outcome.status === 'rejected')
          logger.warn(
            { err: outcome.reason, protocol_run_id: protocolRunId },
            "a run's abort did not reach its queue",
          )
    },
    subscribe: ({ onCommit, abortRun }) => {
      // Entries of its own per subscription: one subscriber, or one function, may subscribe twice.
      const subscriber: BusSubscriber = { abortRun }
      subscribers.add(subscriber)
      const stopListening = onCommit
        ? commitListeners.add((committed) => onCommit(committed))
        : () => undefined
      return () => {
        stopListening()
        subscribers.delete(subscriber)
      }
    },
  }
}
