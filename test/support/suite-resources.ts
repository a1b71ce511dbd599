import { afterAll, afterEach, beforeAll } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { openMigratedDatabase, unavailable, type TestDialect } from './databases.js'
import { removeDir, tempDir } from './git-repos.js'

/** The suite's database: `handle` is valid inside its tests (not while the suite is collected). */
export interface SuiteDatabase {
  readonly handle: DatabaseHandle
}

/**
 * One migrated database of `dialect` for the calling suite: opened before its first test, closed
 * and dropped after its last. An unavailable dialect (Postgres without a test URL) opens nothing;
 * its tests are skipped, so `handle` is never read.
 */
export const migratedDatabasePerSuite = (dialect: TestDialect): SuiteDatabase => {
  let opened: Awaited<ReturnType<typeof openMigratedDatabase>> | undefined
  beforeAll(async () => {
    if (!unavailable(dialect)) opened = await openMigratedDatabase(dialect)
  })
  afterAll(async () => opened?.close())
  return {
    get handle() {
      if (!opened) throw new Error(`no ${dialect} database is open outside this suite's tests`)
      return opened.handle
    },
  }
}

/** Makes temp directories inside a test (`make(prefix)`); every one is removed after the test. */
export const tempDirsPerTest = (): ((prefix?: string) => string) => {
  const made: string[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) removeDir(dir)
  })
  return (prefix) => {
    const dir = tempDir(prefix)
    made.push(dir)
    return dir
  }
}
