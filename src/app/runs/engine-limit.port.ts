/** The `engine_limits` rows: one global circuit breaker per engine, seen by every worker. */
export interface EngineLimitRepository {
  /** ISO instant until which the engine is limited, when that is later than `now`; else undefined. */
  limitedUntil(engineId: string, now: Date): Promise<string | undefined>
  /** Opens (or extends, never shortens) the engine's breaker until `until`. */
  limit(engineId: string, until: Date, reason: string): Promise<void>
}
