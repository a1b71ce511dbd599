import type { EventSignal } from '../../app/ports.js'

/** The event signal of a single process (embedded mode): listeners are called synchronously. */
export const createInProcessSignal = (): EventSignal => {
  const listeners = new Set<() => void>()
  return {
    notify: () => listeners.forEach((listener) => listener()),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
