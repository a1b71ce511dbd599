import type { Observer } from './observer.js'

export interface Fault {
  readonly kind: 'worker-kill' | 'redis-restart' | 'postgres-restart'
  /** When it was injected (ms). */
  readonly at: number
  /** When the dependency answered again (restarts), or `at` (a killed worker is replaced by the others). */
  readonly upAt: number
  /** The jobs it interrupted: a killed worker's, or every job running when the dependency went down. */
  readonly jobs: readonly string[]
}

export interface FaultRecovery {
  readonly kind: Fault['kind']
  /** Seconds after the start of the campaign's first fault, for reading the log. */
  readonly atMs: number
  readonly outageMs: number
  /** Until the last interrupted job ended (elsewhere or again), counted from when the dependency was back. */
  readonly recoveryMs: number | undefined
  /** Restarts: until the first job of any kind ended after the dependency was back. */
  readonly firstProgressMs: number | undefined
  readonly jobsHeld: number
}

/** How long the system took to make progress again after each fault, read from the jobs' end times. */
export const measureFaults = async (
  faults: readonly Fault[],
  observer: Observer,
): Promise<FaultRecovery[]> => {
  const first = faults[0]?.at ?? 0
  const result: FaultRecovery[] = []
  for (const fault of [...faults].sort((a, b) => a.at - b.at)) {
    const end = await observer.lastEnd(fault.jobs)
    const progress = fault.kind === 'worker-kill' ? undefined : await observer.firstEndAfter(fault.upAt)
    result.push({
      kind: fault.kind,
      atMs: fault.at - first,
      outageMs: fault.upAt - fault.at,
      recoveryMs: end === undefined ? undefined : Math.max(0, end - fault.upAt),
      firstProgressMs: progress === undefined ? undefined : progress - fault.upAt,
      jobsHeld: fault.jobs.length,
    })
  }
  return result
}
