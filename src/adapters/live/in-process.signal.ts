import { createListenerSet } from '../../app/listener-set.js'
import type { Announced, EventSignal } from '../../app/ports.js'

/**
 * The event signal of a single process (embedded mode): listeners are called synchronously, from
 * the commit's announcement; one that throws is reported to `onError` and the others still wake.
 */
export const createInProcessSignal = (onError: (error: unknown) => void): EventSignal => {
  const listeners = createListenerSet<Announced>(onError)
  return { notify: listeners.call, subscribe: listeners.add }
}
