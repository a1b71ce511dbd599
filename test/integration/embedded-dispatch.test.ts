import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEmbeddedQueue } from '../../src/adapters/queue/embedded-queue.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createJobLedger, type JobLedger } from '../../src/adapters/storage/job-ledger.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import type { Repositories } from '../../src/app/ports.js'
import type { JobRunner } from '../../src/app/queue-runtime/job-runner.js'
import { RunningJobs } from '../../src/app/queue-runtime/run-aborts.js'
import type { JobQueue } from '../../src/app/queue.js'
import type { Job } from '../../src/domain/job.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { seedProject, seedProjectJob } from '../support/fixtures.js'
import { waitUntil } from '../support/polling.js'

// The embedded dispatcher claims due jobs when it is told some may be due (a commit's wake-up,
// its poll) and when a slot frees. A claim that found fewer jobs than it had slots for means the
// queue was empty: the slots freed after it have nothing to claim until the next announcement.

/** Far beyond any test's wait: what runs here ran because of a wake-up or a freed slot, not the poll. */
const NO_POLL_MS = 600_000

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`embedded dispatch on ${dialect}`, () => {
    let database: { handle: DatabaseHandle; close(): Promise<void> }
    let repos: Repositories
    let projectId: number
    let queue: JobQueue | undefined
    let claims: number
    const ran: string[] = []

    beforeEach(async () => {
      database = await openMigratedDatabase(dialect)
      repos = createRepositories(database.handle.db)
      projectId = (await seedProject(repos)).id
      claims = 0
      ran.length = 0
    })

    afterEach(async () => {
      await queue?.stop(1_000)
      queue = undefined
      await database.close()
    })

    /** A queue over the real ledger whose jobs each take `holdMs`, counting its claim statements. */
    const startQueue = async (concurrency: number, holdMs: number): Promise<JobQueue> => {
      const ledger = createJobLedger(database.handle)
      const counted: JobLedger = {
        ...ledger,
        claimDue: (options) => {
          claims += 1
          return ledger.claimDue(options)
        },
      }
      const runner: JobRunner = {
        async run(job, claim) {
          await new Promise((resolve) => setTimeout(resolve, holdMs))
          ran.push(job.id)
          await repos.jobs.settle(claim, { status: 'finished', result: null })
          return 'finished'
        },
      }
      const started = createEmbeddedQueue({
        ledger: counted,
        runner,
        expireLease: async () => 'failed',
        running: new RunningJobs(),
        concurrency,
        leaseMs: 60_000,
        pollMs: NO_POLL_MS,
        reconcileMs: NO_POLL_MS,
        retentionHours: 24,
      })
      await started.start()
      queue = started
      return started
    }

    const enqueue = async (target: JobQueue, id: string): Promise<Job> => {
      const job = await seedProjectJob(repos, projectId, id)
      target.wake([job])
      return job
    }

    const allRan = async (count: number): Promise<string[]> => {
      await waitUntil(async () => ran.length === count, `${count} jobs to run`, { timeoutMs: 10_000 })
      return ran
    }
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

    it('sends no claim when a job ends and the queue was found empty', async () => {
      const target = await startQueue(4, 0)
      // The start's own claim found nothing.
      await waitUntil(async () => claims === 1, 'the first claim', { timeoutMs: 10_000 })
      await settle()
      const atStart = claims
      for (const id of ['one', 'two', 'three']) {
        await enqueue(target, id)
        await waitUntil(async () => ran.includes(id), `${id} to run`, { timeoutMs: 10_000 })
        // The job's slot is free again, and nothing else was queued.
        await settle()
      }
      expect(ran).toEqual(['one', 'two', 'three'])
      // One claim per wake-up; before, each freed slot claimed once more and found nothing.
      expect(claims - atStart).toBe(3)
    })

    it('starts jobs announced while every slot was busy as slots free, without waiting for the poll', async () => {
      const target = await startQueue(1, 30)
      for (const id of ['a', 'b', 'c', 'd']) await enqueue(target, id)
      expect(await allRan(4)).toEqual(['a', 'b', 'c', 'd'])
    })

    it('claims again when a slot frees after a claim that filled every slot', async () => {
      const target = await startQueue(2, 20)
      // Committed without a wake-up (as another process would), then one announcement: the first
      // claim fills both slots, and the rest are claimed as those slots free.
      for (const id of ['w', 'x', 'y', 'z']) await seedProjectJob(repos, projectId, id)
      target.wake([{ status: 'queued' } as Job])
      expect(await allRan(4)).toHaveLength(4)
    })
  })
}
