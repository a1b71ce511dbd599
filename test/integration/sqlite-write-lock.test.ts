import SqliteDatabase from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/adapters/storage/database.js'
import { migrateToLatest } from '../../src/adapters/storage/migrations/index.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import { createTestDatabase, type TestDatabase } from '../support/databases.js'
import { seedProject } from '../support/fixtures.js'

// The server and its worker processes share one SQLite file. A transaction that reads, then
// writes, must not be refused because another process committed in between: that was a 500 on
// `POST /protocols/{id}/actions/start` while a worker finished the project's setup job.
describe('a unit of work on a SQLite file other processes write to', () => {
  let database: TestDatabase
  let handle: DatabaseHandle
  let other: SqliteDatabase.Database | undefined
  afterEach(async () => {
    other?.close()
    await handle.close()
    await database.drop()
  })

  it('commits its write although another process tried to commit after its first read', async () => {
    database = await createTestDatabase('sqlite')
    if (database.target.dialect !== 'sqlite') throw new Error('unreachable')
    handle = openDatabase(database.target)
    await migrateToLatest(handle)
    const project = await seedProject(createRepositories(handle.db))
    // Another process, which would wait for the lock; here it gives up at once instead.
    other = new SqliteDatabase(database.target.path, { timeout: 0 })

    let otherCommitted = true
    const renamed = await createUnitOfWork(handle.db).run(async (tx) => {
      const read = await tx.projects.findById(project.id)
      try {
        other!.prepare('update projects set base_branch = ? where id = ?').run('develop', project.id)
      } catch {
        otherCommitted = false
      }
      return tx.projects.update(project.id, { name: `${read!.name}-renamed` })
    })

    expect(renamed?.name).toBe(`${project.name}-renamed`)
    expect(otherCommitted).toBe(false)
    const stored = await createRepositories(handle.db).projects.findById(project.id)
    expect(stored).toMatchObject({ name: `${project.name}-renamed`, baseBranch: 'main' })
  })
})
