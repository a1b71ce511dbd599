import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEmbeddedQueue } from '../../src/adapters/queue/embedded-queue.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { createJobLedger, type JobLedger } from '../../src/adapters/storage/job-ledger.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import type { JobClaim } from '../../src/app/job-claim.port.js'
import type { Repositories } from '../../src/app/ports.js'
import type { JobRunner, RunOutcome } from '../../src/app/queue-runtime/job-runner.js'
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

/** A promise the test settles by hand. */
const gate = () => {
  let open: () => void = () => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}

/** What the test's runner does with one attempt of a job, after recording that it ran. */
type Attempt = (job: Job, claim: JobClaim, repos: Repositories) => Promise<RunOutcome>

const finish: Attempt = async (_job, claim, repos) => {
  await repos.jobs.settle(claim, { status: 'finished', result: null })
  return 'finished'
}

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`embedded dispatch on ${dialect}`, () => {
    let database: { handle: DatabaseHandle; close(): Promise<void> }
    let repos: Repositories
    let projectId: number
    let queue: JobQueue | undefined
    let claims: number
    /** Claims whose statement has answered. */
    let answered: number
    /** What a claim waits for before its statement runs. */
    let beforeClaim: () => Promise<void>
    /** What a claim waits for once its statement has answered. */
    let afterClaim: () => Promise<void>
    const ran: string[] = []

    beforeEach(async () => {
      database = await openMigratedDatabase(dialect)
      repos = createRepositories(database.handle.db)
      projectId = (await seedProject(repos)).id
      claims = 0
      answered = 0
      beforeClaim = async () => undefined
      afterClaim = async () => undefined
      ran.length = 0
    })

    afterEach(async () => {
      await queue?.stop(1_000)
      queue = undefined
      await database.close()
    })

    /** A queue over the real ledger, counting its claim statements; each attempt does `attempt`. */
    const startQueue = async (
      concurrency: number,
      attempt: Attempt = finish,
      pollMs = NO_POLL_MS,
    ): Promise<JobQueue> => {
      const ledger = createJobLedger(database.handle)
      const counted: JobLedger = {
        ...ledger,
        claimDue: async (options) => {
          claims += 1
          await beforeClaim()
          const claimed = await ledger.claimDue(options)
          answered += 1
          await afterClaim()
          return claimed
        },
      }
      const runner: JobRunner = {
        async run(job, claim) {
          ran.push(job.id)
          return attempt(job, claim, repos)
        },
      }
      const started = createEmbeddedQueue({
        ledger: counted,
        runner,
        expireLease: async () => 'failed',
        running: new RunningJobs(),
        concurrency,
        leaseMs: 60_000,
        pollMs,
        reconcileMs: NO_POLL_MS,
        retentionHours: 24,
      })
      await started.start()
      // The start's own claim found nothing.
      await waitUntil(async () => answered === 1, 'the first claim', { timeoutMs: 10_000 })
      queue = started
      return started
    }

    const seed = (ids: readonly string[]): Promise<Job[]> =>
      Promise.all(ids.map((id) => seedProjectJob(repos, projectId, id)))
    const allRan = async (count: number): Promise<string[]> => {
      await waitUntil(async () => ran.length === count, `${count} attempts`, { timeoutMs: 10_000 })
      return ran
    }
    const pause = () => new Promise((resolve) => setTimeout(resolve, 50))
    const hasStarted = (id: string) =>
      waitUntil(async () => ran.includes(id), `${id} to start`, { timeoutMs: 10_000 })

    it('sends no claim when a job ends and the queue was found empty', async () => {
      const target = await startQueue(4)
      await pause()
      for (const id of ['one', 'two', 'three']) {
        target.wake(await seed([id]))
        await hasStarted(id)
        // The job's slot is free again, and nothing else was queued.
        await pause()
      }
      expect(ran).toEqual(['one', 'two', 'three'])
      // One claim per wake-up; before, each freed slot claimed once more and found nothing.
      expect(claims - 1).toBe(3)
    })

    it('starts jobs announced while every slot was busy as slots free, without waiting for the poll', async () => {
      const first = gate()
      const target = await startQueue(1, async (job, claim, store) => {
        if (job.id === 'first') await first.opened
        return finish(job, claim, store)
      })
      target.wake(await seed(['first']))
      await hasStarted('first')
      // The only slot is held: these are announced while nothing can be claimed for them.
      for (const id of ['b', 'c', 'd']) target.wake(await seed([id]))
      await pause()
      expect(ran).toEqual(['first'])
      first.open()
      expect(await allRan(4)).toEqual(['first', 'b', 'c', 'd'])
    })

    it('claims again when a slot frees after a claim that filled every slot', async () => {
      const target = await startQueue(2)
      // One commit of four jobs, one announcement: the first claim fills both slots, and the rest
      // are claimed as those slots free.
      target.wake(await seed(['w', 'x', 'y', 'z']))
      expect([...(await allRan(4))].sort()).toEqual(['w', 'x', 'y', 'z'])
    })

    it('polls only when nothing has claimed for the poll interval, and then finds what no wake-up announced', async () => {
      const pollMs = 1_000
      const target = await startQueue(4, finish, pollMs)
      // Twice the poll interval of wake-ups a twentieth of it apart: every look is a wake-up's.
      const wakes = 40
      for (let i = 0; i < wakes; i += 1) {
        target.wake(await seed([`busy-${i}`]))
        await new Promise((resolve) => setTimeout(resolve, pollMs / 20))
      }
      await allRan(wakes)
      expect(claims - 1).toBe(wakes)
      // Committed by "another process": nothing announces it; the poll finds it.
      await seed(['unannounced'])
      expect((await allRan(wakes + 1)).at(-1)).toBe('unannounced')
    })

    it('sends no claim as slots free after a claim that took every due job', async () => {
      const target = await startQueue(2)
      target.wake(await seed(['p', 'q']))
      await allRan(2)
      await pause()
      // Postgres's claim says whether it left a due job; SQLite's full claim is looked past again.
      expect(claims - 1).toBe(dialect === 'postgres' ? 1 : 2)
    })

    it('sends no claim for a slot freed while a claim is under way that then finds the queue drained', async () => {
      const firstHeld = gate()
      const firstEnded = gate()
      const target = await startQueue(3, async (job, claim, store) => {
        if (job.id === 'first') await firstHeld.opened
        const outcome = await finish(job, claim, store)
        if (job.id === 'first') setImmediate(firstEnded.open)
        return outcome
      })
      target.wake(await seed(['first']))
      await hasStarted('first')
      // The second job's claim is under way (its statement not yet sent) when the first job ends.
      const claimSent = gate()
      beforeClaim = () => claimSent.opened
      target.wake(await seed(['second']))
      await waitUntil(async () => claims === 3, 'the second claim', { timeoutMs: 10_000 })
      firstHeld.open()
      await firstEnded.opened
      beforeClaim = async () => undefined
      claimSent.open()
      await allRan(2)
      await pause()
      // The start's, the first's and the second's: the freed slot was looked at by the second claim.
      expect(claims).toBe(3)
    })

    it('claims at once what was announced after a claim had looked, though that claim found the queue drained', async () => {
      const target = await startQueue(2)
      afterClaim = async () => {
        afterClaim = async () => undefined
        // Committed and announced after the claim's statement looked, before its answer is used.
        target.wake(await seed(['late']))
      }
      target.wake(await seed(['early']))
      expect(await allRan(2)).toEqual(['early', 'late'])
    })

    it('claims at once a job its own settlement queued again while a claim was under way', async () => {
      const retryHeld = gate()
      let requeued = false
      const target = await startQueue(3, async (job, claim, store) => {
        if (job.id !== 'retried' || requeued) return finish(job, claim, store)
        await retryHeld.opened
        const now = new Date().toISOString()
        await store.jobs.settle(claim, { status: 'queued', nextRunAt: now, error: 'try again' })
        requeued = true
        return 'retry'
      })
      target.wake(await seed(['retried']))
      await hasStarted('retried')
      afterClaim = async () => {
        afterClaim = async () => undefined
        // Queued again after this claim looked: only its own settlement can tell.
        retryHeld.open()
        await waitUntil(async () => requeued, 'the retry to be queued', { timeoutMs: 10_000 })
        await new Promise((resolve) => setImmediate(resolve))
      }
      target.wake(await seed(['other']))
      expect(await allRan(3)).toEqual(['retried', 'other', 'retried'])
    })

    it('runs a job again at once when its own settlement queued it due now', async () => {
      const target = await startQueue(2, async (job, claim, store) => {
        if (ran.length > 1) return finish(job, claim, store)
        const now = new Date().toISOString()
        await store.jobs.settle(claim, { status: 'queued', nextRunAt: now, error: 'try again' })
        return 'retry'
      })
      target.wake(await seed(['again']))
      expect(await allRan(2)).toEqual(['again', 'again'])
    })
  })
}
