/** Something whose reachability decides whether the service is healthy (database, queue). */
export interface HealthProbe {
  readonly name: string
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check(): Promise<void>
}

export interface HealthReport {
  readonly status: 'ok' | 'degraded'
  readonly checks: Readonly<Record<string, 'ok' | 'error'>>
}

const PROBE_TIMEOUT_MS = 2_000

/** Asks every probe at once; one failure or timeout makes the whole report degraded. */
export const makeCheckHealth =
  ({ probes }: { probes: readonly HealthProbe[] }) =>
  async (): Promise<HealthReport> => {
    const results = await Promise.all(
      probes.map(async (probe) => [probe.name, (await answers(probe)) ? 'ok' : 'error'] as const),
    )
    const checks = Object.fromEntries(results)
    return { status: results.every(([, state]) => state === 'ok') ? 'ok' : 'degraded', checks }
  }

const answers = async (probe: HealthProbe): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)
  })
  try {
    return await Promise.race([probe.check().then(() => true), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
