import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createOutboxRelay } from '../../src/adapters/queue/outbox-relay.js'
import { createJobLedger } from '../../src/adapters/storage/job-ledger.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedProjectJob } from '../support/fixtures.js'
import { REDIS_URL, deletePrefix, waitFor } from '../support/queue-harness.js'

// Every process that enqueues runs a relay (the API and each worker). They used to read the same
// unrelayed rows and each add them: BullMQ's id dedupe kept Redis right, but under a burst every
// row was read, added and marked two or three times over.
describe.each(DIALECTS)('the outbox relay (%s + Redis)', (dialect) => {
  const skip = unavailable(dialect) || !REDIS_URL
  let database: Awaited<ReturnType<typeof openMigratedDatabase>>
  let prefix: string
  let connection: Redis
  const queues: Queue[] = []
  /** How many times each job id was handed to BullMQ. */
  const added = new Map<string, number>()

  beforeEach(async () => {
    if (skip) return
    database = await openMigratedDatabase(dialect)
    prefix = `tgztest-relay-${dialect}-${Date.now()}`
    connection = new Redis(REDIS_URL ?? '', { maxRetriesPerRequest: null })
    added.clear()
  })
  afterEach(async () => {
    if (skip) return
    for (const queue of queues.splice(0)) await queue.close()
    connection.disconnect()
    await deletePrefix(prefix)
    await database.close()
  })

  /** A BullMQ queue whose adds are counted; `failures` adds throw before reaching Redis. */
  const countingQueue = (failures = 0): Queue => {
    const queue = new Queue('default', { connection, prefix })
    queues.push(queue)
    let left = failures
    const addBulk = queue.addBulk.bind(queue)
    queue.addBulk = async (jobs) => {
      if (left > 0) {
        left -= 1
        throw new Error('redis went away')
      }
      for (const job of jobs) added.set(job.opts?.jobId ?? '', (added.get(job.opts?.jobId ?? '') ?? 0) + 1)
      return addBulk(jobs)
    }
    return queue
  }

  /** Commits `count` jobs, `spacingMs` apart (creation times of one millisecond tie). */
  const commitJobs = async (count: number, spacingMs = 0): Promise<string[]> => {
    const repos = createRepositories(database.handle.db)
    const project = await seedProject(repos)
    const ids: string[] = []
    for (let i = 0; i < count; i += 1) {
      const job = await seedProjectJob(repos, project.id, `job-${String(i).padStart(4, '0')}`)
      ids.push(job.id)
      if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs))
    }
    return ids
  }

  const unrelayedCount = async (): Promise<number> => {
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from jobs where relayed_at is null`.execute(database.handle.db)
    return Number(rows[0]?.n)
  }

  it.skipIf(skip)('adds each committed job once when three relays wake together', async () => {
    const ids = await commitJobs(600)
    const ledger = createJobLedger(database.handle)
    const relays = Array.from({ length: 3 }, () => {
      const queue = countingQueue()
      return createOutboxRelay({ ledger, queueFor: () => queue, pollMs: 20 })
    })
    for (const relay of relays) relay.start()
    await waitFor(async () => (await unrelayedCount()) === 0, 20_000, 'every job to be relayed')
    await Promise.all(relays.map((relay) => relay.stop()))

    expect([...added.keys()].sort()).toEqual(ids)
    expect([...added.values()].every((times) => times === 1)).toBe(true)
    expect((await queues[0]!.getJobCounts('waiting')).waiting).toBe(600)
  })

  it.skipIf(skip)('hands back the jobs of a failed add, and adds them on the next pass', async () => {
    const ids = await commitJobs(5)
    const queue = countingQueue(1)
    const relay = createOutboxRelay({
      ledger: createJobLedger(database.handle),
      queueFor: () => queue,
      pollMs: 60_000,
    })
    relay.start()
    await relay.stop()
    expect(await unrelayedCount()).toBe(5)
    expect(added.size).toBe(0)

    relay.start()
    await waitFor(async () => (await unrelayedCount()) === 0, 10_000, 'the jobs to be relayed again')
    await relay.stop()
    expect([...added.keys()].sort()).toEqual(ids)
    expect((await queue.getJobCounts('waiting')).waiting).toBe(5)
  })

  it.skipIf(skip)('takes the oldest queued jobs first, and never one already taken', async () => {
    const ids = await commitJobs(7, 3)
    const ledger = createJobLedger(database.handle)
    const first = await ledger.takeUnrelayed(4)
    const second = await ledger.takeUnrelayed(4)
    expect(first.map((job) => job.id)).toEqual(ids.slice(0, 4))
    expect(second.map((job) => job.id)).toEqual(ids.slice(4))
    expect(await ledger.takeUnrelayed(4)).toEqual([])
  })
})
