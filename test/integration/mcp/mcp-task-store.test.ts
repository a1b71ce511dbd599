import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createRepositories } from '../../../src/adapters/storage/unit-of-work.js'
import { makeMcpTasks } from '../../../src/app/mcp/mcp-tasks.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../../support/databases.js'

describe.each(DIALECTS)('the shared MCP task store on %s', (dialect) => {
  let db: { handle: DatabaseHandle; close(): Promise<void> }
  beforeAll(async () => {
    if (!unavailable(dialect)) db = await openMigratedDatabase(dialect)
  })
  afterAll(async () => db?.close())
  const tasksOf = (authorization: string, projectToken?: string) =>
    makeMcpTasks({ repos: createRepositories(db.handle.db) })({ authorization, projectToken })

  it.skipIf(unavailable(dialect))(
    "keeps a task's status and result for its caller only, and settles it once",
    async () => {
      const owner = tasksOf('Bearer a', `p-${Math.random()}`)
      const stranger = tasksOf('Bearer a', 'another project token')
      const task = await owner.create({ ttlMs: 60_000, pollIntervalMs: 500 })
      expect(task).toMatchObject({ status: 'working', pollIntervalMs: 500, ttlMs: 60_000, result: null })
      expect(await stranger.get(task.taskId)).toBeUndefined()
      expect(await stranger.settle(task.taskId, { status: 'completed', result: { stolen: true } })).toBe(
        false,
      )
      expect(await owner.settle(task.taskId, { status: 'completed', result: { content: [] } })).toBe(true)
      expect(await owner.settle(task.taskId, { status: 'failed', result: { late: true } })).toBe(false)
      expect(await owner.get(task.taskId)).toMatchObject({ status: 'completed', result: { content: [] } })
      expect((await owner.list(undefined)).tasks.map((t) => t.taskId)).toEqual([task.taskId])
      expect((await stranger.list(undefined)).tasks).toEqual([])
    },
  )

  it.skipIf(unavailable(dialect))('forgets a task once its ttl has passed', async () => {
    const owner = tasksOf(`Bearer ${Math.random()}`)
    const task = await owner.create({ ttlMs: 1000, pollIntervalMs: 100 })
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await owner.get(task.taskId)).toBeUndefined()
  })
})
