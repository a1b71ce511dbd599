interface Flight<T> {
  readonly version: string
  readonly result: Promise<T | undefined>
}

/**
 * Computations of a read under way, by key and version. A request that misses while the same key
 * is being computed at the same version waits for that result instead of computing it again: at
 * 32 connections a popular listing that has just changed would otherwise be computed by every
 * request that arrives before the first one finishes.
 */
export class InFlight<T> {
  private readonly flights = new Map<string, Flight<T>>()

  /** The result of the computation of `key` at `version` under way; undefined when there is none. */
  join(key: string, version: string): Promise<T | undefined> | undefined {
    const flight = this.flights.get(key)
    return flight?.version === version ? flight.result : undefined
  }

  /**
   * Registers the caller as computing `key` at `version`. It must call the returned function once
   * it has the result, or with undefined when it has none (an error, a non-200); calling it again
   * does nothing. Those waiting on an undefined result compute for themselves.
   */
  lead(key: string, version: string): (result: T | undefined) => void {
    let settle!: (result: T | undefined) => void
    const flight: Flight<T> = { version, result: new Promise((resolve) => (settle = resolve)) }
    this.flights.set(key, flight)
    return (result) => {
      if (this.flights.get(key) === flight) this.flights.delete(key)
      settle(result)
    }
  }
}
