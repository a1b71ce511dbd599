/** The `engine_limits` rows: one global circuit breaker per engine, seen by every worker. */
export interface EngineLimitRepository {
  /** ISO instant until which the engine is limited, when that is later than `now`; else undefined. */
  limitedUntil(engineId: string, now: Date): Promise<string | undefined>
  /** Of `engineIds`, those limited later than `now`, each with its ISO instant: one read for a chain. */
  limitedAmong(engineIds: readonly string[], now: Date): Promise<ReadonlyMap<string, string>>
  /** Opens (or extends, never shortens) the engine's breaker until `until`. */
  limit(engineId: string, until: Date, reason: string): Promise<void>
}

/** The breaker reads a job makes before a call: single statements, outside any transaction. */
export type EngineLimitReads = Pick<EngineLimitRepository, 'limitedUntil' | 'limitedAmong'>
