import { Migrator, type Migration, type MigrationResultSet } from 'kysely'
import { AppError } from '../../../domain/app-error.js'
import type { DatabaseHandle, Dialect } from '../database.js'
import { initialSchema } from './2026-11-25T1630-initial-schema.js'
import { jobsTable } from './2026-11-25T1700-jobs.js'
import { stepNameUnique } from './2026-11-25T1720-step-name-unique.js'
import { webhooks } from './2026-11-25T1800-webhooks.js'
import { eventTxid } from './2026-11-25T1900-event-txid.js'
import { reviewComments } from './2026-12-04T1600-review-comments.js'

/** Every migration, in order. Names are timestamps so that they sort as they were written. */
const migrationsFor = (dialect: Dialect): Record<string, Migration> => ({
  '2026-11-25T1630-initial-schema': initialSchema(dialect),
  '2026-11-25T1700-jobs': jobsTable(dialect),
  '2026-11-25T1720-step-name-unique': stepNameUnique,
  '2026-11-25T1800-webhooks': webhooks(dialect),
  '2026-11-25T1900-event-txid': eventTxid(dialect),
  '2026-12-04T1600-review-comments': reviewComments(dialect),
})

export interface MigrationReport {
  /** Names of the migrations applied by this call (empty when the database was up to date). */
  readonly applied: string[]
}

/**
 * Brings the database to the latest schema. Safe to run concurrently from several processes
 * (Kysely takes a lock) and to run again (nothing changes).
 */
export const migrateToLatest = async (handle: DatabaseHandle): Promise<MigrationReport> => {
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: async () => migrationsFor(handle.dialect) },
  })
  return report(await migrator.migrateToLatest())
}

const report = ({ error, results }: MigrationResultSet): MigrationReport => {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new AppError('ORC_STORAGE_FAILED', `Migration ${failed} failed: ${describe(error)}`)
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
