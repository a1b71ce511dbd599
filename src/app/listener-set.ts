/**
 * Listeners called one after another with each value. One that throws is reported to `onError`
 * and the rest are still called: the callers are commit announcements, where a throw would reach
 * a caller whose transaction already committed (and be read as a failed write), or an event
 * emitter, where it would end the process.
 */
export interface ListenerSet<T> {
  /** Adds `listener`; returns the function that removes it. */
  add(listener: (value: T) => void): () => void
  /** Calls the listeners there are now and still are when their turn comes (one added meanwhile waits for the next value). */
  call(value: T): void
  /** Removes every listener. */
  clear(): void
}

export const createListenerSet = <T>(onError: (error: unknown) => void): ListenerSet<T> => {
  const listeners = new Set<(value: T) => void>()
  return {
    add(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    call(value) {
      for (const listener of [...listeners]) {
        if (!listeners.has(listener)) continue
        try {
          listener(value)
        } catch (error) {
          onError(error)
        }
      }
    },
    clear: () => listeners.clear(),
  }
}
