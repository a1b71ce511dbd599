import type { Kysely } from 'kysely'
import type { EngineLimitRepository } from '../../app/runs/engine-limit.port.js'
import { nowIso, toIso } from './columns.js'
import type { Database } from './schema.js'

/** `engine_limits`: the later of two limits wins, so a short limit never reopens a longer one. */
export const createEngineLimitRepository = (db: Kysely<Database>): EngineLimitRepository => {
  const limits: EngineLimitRepository = {
    async limitedUntil(engineId, now) {
      return (await limits.limitedAmong([engineId], now)).get(engineId)
    },
    async limitedAmong(engineIds, now) {
      if (engineIds.length === 0) return new Map()
      const rows = await db
        .selectFrom('engine_limits')
        .select(['engine_id', 'limited_until'])
        .where('engine_id', 'in', [...new Set(engineIds)])
        .execute()
      const limited = rows
        .map((row) => [row.engine_id, toIso(row.limited_until)] as const)
        .filter(([, until]) => Date.parse(until) > now.getTime())
      return new Map(limited)
    },
    async limit(engineId, until, reason) {
      const values = {
        limited_until: until.toISOString(),
        reason: reason.slice(0, 500),
        updated_at: nowIso(),
      }
      // The comparison is in the write: a read first let two workers limited at once both see no
      // limit, and the earlier reset, written last, shortened the later one.
      await db
        .insertInto('engine_limits')
        .values({ engine_id: engineId, ...values })
        .onConflict((oc) =>
          oc
            .column('engine_id')
            .doUpdateSet(values)
            .where('engine_limits.limited_until', '<', values.limited_until),
        )
        .execute()
    },
  }
  return limits
}
