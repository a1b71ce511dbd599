import type { Announced, EventSignal } from '../../app/ports.js'

/** The event signal of a single process (embedded mode): listeners are called synchronously. */
export const createInProcessSignal = (): EventSignal => {
  const listeners = new Set<(announced: Announced) => void>()
  return {
    notify: (news) => listeners.forEach((listener) => listener(news)),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
