import type { Kysely } from 'kysely'
import type { CommitListener, Repositories, UnitOfWork } from '../../app/ports.js'
import type { OrchestratorEvent } from '../../domain/event.js'
import type { Job } from '../../domain/job.js'
import { createEventRepository } from './event.repository.js'
import { createJobRepository } from './job.repository.js'
import { createWebhookDeliveryRepository } from './webhook-delivery.repository.js'
import { createReviewCommentRepository } from './review-comment.repository.js'
import { createProjectRepository } from './project.repository.js'
import { createProtocolRunRepository } from './protocol-run.repository.js'
import type { Database } from './schema.js'
import { createStepRunRepository } from './step-run.repository.js'

/** Repositories bound to one connection or transaction. */
export const createRepositories = (db: Kysely<Database>): Repositories => ({
  projects: createProjectRepository(db),
  runs: createProtocolRunRepository(db),
  steps: createStepRunRepository(db),
  events: createEventRepository(db),
  jobs: createJobRepository(db),
  deliveries: createWebhookDeliveryRepository(db),
  reviews: createReviewCommentRepository(db),
})

/**
 * Transactions over the given database. Events and jobs appended inside a transaction are handed
 * to `onCommit` after it commits, so live streams and the queue never see rolled-back work.
 */
export const createUnitOfWork = (db: Kysely<Database>, onCommit?: CommitListener): UnitOfWork => ({
  async run(work) {
    const events: OrchestratorEvent[] = []
    const jobs: Job[] = []
    const result = await db
      .transaction()
      .execute((trx) => work(recording(createRepositories(trx), events, jobs)))
    if (onCommit && (events.length > 0 || jobs.length > 0)) onCommit({ events, jobs })
    return result
  },
})

const recording = (repos: Repositories, events: OrchestratorEvent[], jobs: Job[]): Repositories => ({
  ...repos,
  steps: {
    ...repos.steps,
    compareAndSetStatusWithEvent: async (...change) => {
      const moved = await repos.steps.compareAndSetStatusWithEvent(...change)
      events.push(moved.event)
      return moved
    },
  },
  events: {
    ...repos.events,
    append: async (event) => {
      const appended = await repos.events.append(event)
      events.push(appended)
      return appended
    },
  },
  jobs: {
    ...repos.jobs,
    add: async (job) => {
      const added = await repos.jobs.add(job)
      jobs.push(added)
      return added
    },
    // Released jobs are runnable again: announcing them wakes the queue like new ones.
    releaseHeld: async (protocolRunId) => {
      const released = await repos.jobs.releaseHeld(protocolRunId)
      jobs.push(...released)
      return released
    },
  },
})
