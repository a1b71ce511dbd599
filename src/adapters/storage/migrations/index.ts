import { Migrator, type Migration, type MigrationResultSet } from 'kysely'
import { AppError } from '../../../domain/app-error.js'
import type { DatabaseHandle, Dialect } from '../database.js'
import { initialSchema } from './2026-11-25T1630-initial-schema.js'
import { jobsTable } from './2026-11-25T1700-jobs.js'
import { stepNameUnique } from './2026-11-25T1720-step-name-unique.js'
import { webhooks } from './2026-11-25T1800-webhooks.js'
import { eventTxid } from './2026-11-25T1900-event-txid.js'
import { notifications } from './2026-12-04T1500-notifications.js'
import { runLeases } from './2026-12-04T1500-run-leases.js'
import { engineLimits } from './2026-12-04T1600-engine-limits.js'
import { reviewComments } from './2026-12-04T1600-review-comments.js'
import { projectReviewMode } from './2026-12-05T1000-project-review-mode.js'
import { mcpTasks } from './2026-12-05T1001-mcp-tasks.js'
import { engineChains } from './2026-12-05T1010-engine-chains.js'
import { readScopes } from './2026-12-05T1020-read-scopes.js'
import { eventsRunCovering } from './2026-12-05T1100-events-run-covering.js'
import { jobsPartialIndexes } from './2026-12-05T1200-jobs-partial-indexes.js'
import { runEventScopes } from './2026-12-06T1000-run-event-scopes.js'
import { runLeaseVersion } from './2026-12-07T1000-run-lease-version.js'
import { runLeaseHeldFor } from './2026-12-07T2000-run-lease-held-for.js'

/** Every migration, in order. Names are timestamps so that they sort as they were written. */
const migrationsFor = (dialect: Dialect): Record<string, Migration> => ({
  '2026-11-25T1630-initial-schema': initialSchema(dialect),
  '2026-11-25T1700-jobs': jobsTable(dialect),
  '2026-11-25T1720-step-name-unique': stepNameUnique,
  '2026-11-25T1800-webhooks': webhooks(dialect),
  '2026-11-25T1900-event-txid': eventTxid(dialect),
  '2026-12-04T1500-notifications': notifications(dialect),
  '2026-12-04T1500-run-leases': runLeases(dialect),
  '2026-12-04T1600-engine-limits': engineLimits(dialect),
  '2026-12-04T1600-review-comments': reviewComments(dialect),
  '2026-12-05T1000-project-review-mode': projectReviewMode,
  '2026-12-05T1001-mcp-tasks': mcpTasks(dialect),
  '2026-12-05T1010-engine-chains': engineChains(dialect),
  '2026-12-05T1020-read-scopes': readScopes(dialect),
  '2026-12-05T1100-events-run-covering': eventsRunCovering(dialect),
  '2026-12-05T1200-jobs-partial-indexes': jobsPartialIndexes,
  '2026-12-06T1000-run-event-scopes': runEventScopes(dialect),
  '2026-12-07T1000-run-lease-version': runLeaseVersion,
  '2026-12-07T2000-run-lease-held-for': runLeaseHeldFor,
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
  return report(await migrator.migrateToLatest(), handle.dialect)
}

/** The settings naming the database, quoted when it cannot be opened at all. */
const SETTING: Record<Dialect, string> = {
  postgres: 'TASKSGODZILLA_DB_URL',
  sqlite: 'TASKSGODZILLA_DB_URL or TASKSGODZILLA_DB_PATH',
}

const report = ({ error, results }: MigrationResultSet, dialect: Dialect): MigrationReport => {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    // No migration ran: the database itself refused (unreachable, unknown role or database…).
    if (failed === undefined)
      throw new AppError(
        'ORC_STORAGE_FAILED',
        `The ${dialect} database cannot be used (${describe(error)}); check ${SETTING[dialect]}`,
      )
    throw new AppError('ORC_STORAGE_FAILED', `Migration ${failed} failed: ${describe(error)}`)
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
