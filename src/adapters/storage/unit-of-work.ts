import type { Kysely } from 'kysely'
import type {
  BeforeCommit,
  CommitListener,
  Repositories,
  RunStatusChange,
  TransactionChanges,
  UnitOfWork,
} from '../../app/ports.js'
import type { OrchestratorEvent } from '../../domain/event.js'
import type { Job } from '../../domain/job.js'
import type { StepRun } from '../../domain/step-run.js'
import { AppError } from '../../domain/app-error.js'
import { isDeadlock } from './deadlock.js'
import { createEventRepository } from './event.repository.js'
import { deferJobInserts, withDeferredInserts } from './job-inserts.js'
import { createJobRepository } from './job.repository.js'
import { createNotificationRepository } from './notification.repository.js'
import { createWebhookDeliveryRepository } from './webhook-delivery.repository.js'
import { createReviewCommentRepository } from './review-comment.repository.js'
import { createProjectRepository } from './project.repository.js'
import { createProtocolRunRepository } from './protocol-run.repository.js'
import { createRunLeaseRepository } from './run-lease.repository.js'
import { createEngineLimitRepository } from './engine-limit.repository.js'
import type { Database } from './schema.js'
import { createStepRunRepository } from './step-run.repository.js'
import { createMcpTaskRepository } from './mcp-task.repository.js'

/** Repositories bound to one connection or transaction. */
export const createRepositories = (db: Kysely<Database>): Repositories => {
  const events = createEventRepository(db)
  const runs = createProtocolRunRepository(db)
  const leases = createRunLeaseRepository(db)
  return {
    projects: createProjectRepository(db),
    runs,
    // Step moves append through it too: one reader of other databases' transactions per pool.
    steps: createStepRunRepository(db, { events, runs, leases }),
    events,
    jobs: createJobRepository(db),
    deliveries: createWebhookDeliveryRepository(db),
    notifications: createNotificationRepository(db),
    leases,
    engineLimits: createEngineLimitRepository(db),
    reviews: createReviewCommentRepository(db),
    mcpTasks: createMcpTaskRepository(db),
  }
}

/**
 * Transactions over the given database. Events and jobs appended inside a transaction are handed
 * to `onCommit` after it commits, so live streams and the queue never see rolled-back work.
 * `beforeCommit` runs inside the transaction once the work is done, when it changed anything.
 * The jobs a transaction adds are written together just before it commits (`deferJobInserts`).
 */
export const createUnitOfWork = (
  db: Kysely<Database>,
  onCommit?: CommitListener,
  beforeCommit?: BeforeCommit,
): UnitOfWork => ({
  async run(work) {
    const changes = { runs: [], steps: [], events: [], jobs: [] } as Recorded
    const result = await db
      .transaction()
      .execute(async (trx) => {
        const inserts = deferJobInserts(trx)
        const bound = createRepositories(trx)
        const repos = recording({ ...bound, jobs: withDeferredInserts(bound.jobs, inserts) }, changes)
        const value = await work(repos)
        if (beforeCommit && (changes.runs.length > 0 || changes.events.length > 0))
          await beforeCommit(repos, changes)
        await inserts.flush()
        return value
      })
      .catch(asConflict)
    const { events, jobs } = changes
    if (onCommit && (events.length > 0 || jobs.length > 0)) onCommit({ events, jobs })
    return result
  },
})

/**
 * A deadlock is two transactions changing the same rows at once, which the caller meets as any
 * other lost compare-and-set: nothing was written, and trying again sees the winner's work.
 */
const asConflict = (error: unknown): never => {
  if (!isDeadlock(error)) throw error
  throw new AppError('ORC_STATE_CHANGED', 'A concurrent change to the same rows won; retry')
}

interface Recorded extends TransactionChanges {
  readonly runs: RunStatusChange[]
  readonly steps: Array<{ step: StepRun; event: OrchestratorEvent }>
  readonly events: OrchestratorEvent[]
  readonly jobs: Job[]
}

const recording = (repos: Repositories, changes: Recorded): Repositories => ({
  ...repos,
  runs: {
    ...repos.runs,
    compareAndSetStatus: async (...change) => {
      const run = await repos.runs.compareAndSetStatus(...change)
      changes.runs.push({ run, eventsBefore: changes.events.length })
      return run
    },
  },
  steps: {
    ...repos.steps,
    compareAndSetStatusWithEvent: async (...change) => {
      const moved = await repos.steps.compareAndSetStatusWithEvent(...change)
      changes.events.push(moved.event)
      changes.steps.push(moved)
      return moved
    },
    moveIfAllowed: async (...change) => {
      const result = await repos.steps.moveIfAllowed(...change)
      if (result) changes.events.push(result.event)
      if (result?.moved) changes.steps.push(result)
      return result
    },
  },
  events: {
    ...repos.events,
    append: async (event) => {
      const appended = await repos.events.append(event)
      changes.events.push(appended)
      return appended
    },
  },
  jobs: {
    ...repos.jobs,
    add: async (job) => {
      const added = await repos.jobs.add(job)
      changes.jobs.push(added)
      return added
    },
    // Released jobs are runnable again: announcing them wakes the queue like new ones.
    releaseHeld: async (protocolRunId) => {
      const released = await repos.jobs.releaseHeld(protocolRunId)
      changes.jobs.push(...released)
      return released
    },
  },
})
