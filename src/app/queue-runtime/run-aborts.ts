/** Why a running handler's signal was aborted. */
export type AbortCause = 'cancelled' | 'timeout' | 'shutdown' | 'lease_lost'

/** The reason carried by an aborted handler signal. */
export class JobAbort extends Error {
  override readonly name = 'JobAbort'

  constructor(readonly abortCause: AbortCause) {
    super(`Job aborted: ${abortCause}`)
  }
}

/**
 * The handlers running in this process, by run, so that cancelling a run can abort them. Each
 * queue backend owns one; cross-process delivery (pub/sub, status polling) ends in `abortRun`.
 */
export class RunningJobs {
  readonly #byRun = new Map<number, Set<AbortController>>()
  readonly #all = new Set<AbortController>()

  /** Registers a handler's controller; the returned function unregisters it. */
  track(protocolRunId: number | null, controller: AbortController): () => void {
    this.#all.add(controller)
    if (protocolRunId !== null) {
      const set = this.#byRun.get(protocolRunId) ?? new Set()
      set.add(controller)
      this.#byRun.set(protocolRunId, set)
    }
    return () => {
      this.#all.delete(controller)
      const set = protocolRunId === null ? undefined : this.#byRun.get(protocolRunId)
      set?.delete(controller)
      if (set?.size === 0 && protocolRunId !== null) this.#byRun.delete(protocolRunId)
    }
  }

  /** Aborts every handler of the run running here; returns how many were aborted. */
  abortRun(protocolRunId: number): number {
    const set = this.#byRun.get(protocolRunId)
    for (const controller of set ?? []) controller.abort(new JobAbort('cancelled'))
    return set?.size ?? 0
  }

  /** Aborts every handler (shutdown past its grace period). */
  abortAll(cause: AbortCause): void {
    for (const controller of this.#all) controller.abort(new JobAbort(cause))
  }

  get size(): number {
    return this.#all.size
  }
}
