import { openDatabase } from '../adapters/storage/database.js'
import { migrateToLatest, type MigrationReport } from '../adapters/storage/migrations/index.js'
import type { Config } from '../config.js'

/** `tasksgodzilla migrate`: applies pending migrations and reports what ran. */
export const runMigrations = async (config: Config): Promise<MigrationReport> => {
  const database = openDatabase(config.database)
  try {
    return await migrateToLatest(database)
  } finally {
    await database.close()
  }
}
