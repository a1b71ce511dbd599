import { sql } from 'kysely'
import type { ExpiredAttempt } from '../../app/queue-runtime/job-lease-expiry.js'
import type { Job } from '../../domain/job.js'
import { nowIso } from './columns.js'
import type { DatabaseHandle } from './database.js'
import {
  ENDED,
  RUN_INDEXED,
  statusLiteral,
  statusLiterals,
  type RunIndexedStatus,
} from './job-status-terms.js'
import { toJob, type JobRow } from './job.table.js'

/**
 * The queue mechanics on the jobs table that only queue adapters use (use cases go through
 * JobRepository): claiming due jobs, reclaiming dead leases, the outbox relay's bookkeeping and
 * retention.
 */
export interface JobLedger {
  /**
   * Claims up to `limit` due queued jobs under `token` by compare-and-set (started, one more
   * attempt, leased until `leaseUntil`); concurrent claimers never get the same job.
   */
  claimDue(options: ClaimOptions): Promise<Claimed>
  /** Started jobs whose lease ran out (their worker died or stalled), oldest lease first. */
  listExpired(limit: number): Promise<ExpiredAttempt[]>
  /** Held jobs whose run is no longer paused (a resume raced the hold) are queued again. */
  releaseOrphanHeld(): Promise<number>
  /**
   * Takes up to `limit` queued jobs not yet handed to the external queue, marking them relayed in
   * the same statement, and returns them oldest first: concurrent relays (every process that
   * enqueues runs one) never take the same job. A job taken but never added (the add failed, or
   * the process died first) is found by the reconciler and handed back with `requeueForRelay`.
   */
  takeUnrelayed(limit: number): Promise<Job[]>
  /**
   * Jobs the external queue should hold: queued and relayed before `relayedBefore`, or started
   * with a dead lease (with that lease's claim token).
   */
  listRelayedSuspects(relayedBefore: string, limit: number): Promise<SuspectJob[]>
  /** Hands queued jobs to the relay again (started ones are left alone: their lease is settled first). */
  requeueForRelay(ids: readonly string[]): Promise<void>
  /** Ids of the run's jobs in one of `statuses` (those a run's lookup index covers). */
  listIdsForRun(protocolRunId: number, statuses: readonly RunIndexedStatus[]): Promise<string[]>
  /** Deletes finished, failed and cancelled jobs that ended before `endedBefore`. */
  prune(endedBefore: string): Promise<number>
}

export interface SuspectJob {
  readonly job: Job
  /** The claim token of a started job (null for a queued one). */
  readonly token: string | null
}

export interface Claimed {
  readonly jobs: Job[]
  /**
   * Read only when `jobs` fills the limit: false when the claim saw no due job beyond those it
   * took, so a slot freed later has nothing to claim until something new is announced. True may
   * be a false alarm (any full claim on SQLite; rows another claimer held on Postgres).
   */
  readonly mayHaveMore: boolean
}

export interface ClaimOptions {
  readonly token: string
  readonly limit: number
  readonly leaseUntil: string
  readonly queues: readonly string[]
}

export const createJobLedger = ({ db, dialect }: DatabaseHandle): JobLedger => ({
  async claimDue({ token, limit, leaseUntil, queues }) {
    const now = nowIso()
    const due = db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', statusLiteral('queued'))
      .where('next_run_at', '<=', now)
      .where('queue', 'in', [...queues])
      .orderBy('next_run_at')
      .orderBy('created_at')
      .limit(limit)
    const claim = {
      status: 'started',
      attempts: sql<number>`attempts + 1`,
      started_at: now,
      locked_by: token,
      locked_until: leaseUntil,
    }
    if (dialect !== 'postgres') {
      const rows = await db
        .updateTable('jobs')
        .set(claim)
        .where('id', 'in', due)
        .where('status', '=', 'queued')
        .returningAll()
        .execute()
      // A look past a full claim costs microseconds here: not worth a statement's subtleties.
      return { jobs: rows.map(toJob), mayHaveMore: rows.length === limit }
    }
    // Postgres: concurrent claimers skip each other's rows instead of queueing on the row locks.
    // The due rows are picked once (a materialized CTE): as an `in (subquery)`, a plan that rescans
    // the subquery per row finds the rows this statement already updated skipped by SKIP LOCKED and
    // takes the next ones, claiming past `limit` (job-claim-limit.test.ts).
    const rows = await db
      .with(
        (cte) => cte('due').materialized(),
        () => due.forUpdate().skipLocked(),
      )
      .updateTable('jobs')
      .from('due')
      .set(claim)
      .whereRef('jobs.id', '=', 'due.id')
      .where('jobs.status', '=', 'queued')
      .returningAll('jobs')
      // Whether a due job is left beyond those taken (the statement's snapshot still shows them
      // queued): when none is, the dispatcher sends no claim as their slots free.
      .returning(
        sql<boolean>`exists (${db
          .selectFrom('jobs as other')
          .select(sql`1`.as('one'))
          .where('other.status', '=', statusLiteral('queued'))
          .where('other.next_run_at', '<=', now)
          .where('other.queue', 'in', [...queues])
          .where(sql<boolean>`other.id not in (select id from due)`)})`.as('more_due'),
      )
      .execute()
    return { jobs: rows.map(toJob), mayHaveMore: rows.some((row) => row.more_due) }
  },

  async listExpired(limit) {
    const rows = await db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', statusLiteral('started'))
      .where('locked_until', '<', nowIso())
      .where('locked_by', 'is not', null)
      .orderBy('locked_until')
      .limit(limit)
      .execute()
    return rows.map((row) => ({ job: toJob(row), token: row.locked_by ?? '' }))
  },

  async releaseOrphanHeld() {
    const paused = db.selectFrom('protocol_runs').select('id').where('status', '=', 'paused')
    const result = await db
      .updateTable('jobs')
      .set({ status: 'queued', next_run_at: nowIso(), relayed_at: null })
      .where('status', '=', statusLiteral('held'))
      .where((eb) => eb.or([eb('protocol_run_id', 'is', null), eb('protocol_run_id', 'not in', paused)]))
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  },

  async takeUnrelayed(limit) {
    const unrelayed = db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', statusLiteral('queued'))
      .where('relayed_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
    const mark = { relayed_at: nowIso() }
    // SQLite has one writer at a time: no other relay can be marking rows.
    if (dialect !== 'postgres')
      return inCreationOrder(
        await db
          .updateTable('jobs')
          .set(mark)
          .where('id', 'in', unrelayed)
          .where('relayed_at', 'is', null)
          .returningAll()
          .execute(),
      )
    // Postgres: a relay passes by the rows another relay is marking. Waiting for them instead
    // deadlocked: two relays whose snapshots picked overlapping rows locked them in different
    // orders, and Postgres broke the cycle after deadlock_timeout (1 s) by failing one pass, while
    // every job behind them waited (relay-take-locks.test.ts). Picked once, as claimDue's rows are.
    const rows = await db
      .with(
        (cte) => cte('taken').materialized(),
        () => unrelayed.forUpdate().skipLocked(),
      )
      .updateTable('jobs')
      .from('taken')
      .set(mark)
      .whereRef('jobs.id', '=', 'taken.id')
      .returningAll('jobs')
      .execute()
    return inCreationOrder(rows)
  },

  async listRelayedSuspects(relayedBefore, limit) {
    // One arm per state, so that each reads its state's partial index (SQLite does not take a
    // partial index for a branch of an `or`); materialized, because given the order and limit
    // both planners would rather walk every job by creation time, finished ones included, hoping
    // to meet the suspects early (job-index-plans.test.ts). The arms' rows are disjoint.
    const rows = await db
      .with(
        (cte) => cte('suspects').materialized(),
        (qb) =>
          qb
            .selectFrom('jobs')
            .selectAll()
            .where('status', '=', statusLiteral('queued'))
            .where('relayed_at', '<=', relayedBefore)
            .unionAll(
              qb
                .selectFrom('jobs')
                .selectAll()
                .where('status', '=', statusLiteral('started'))
                .where('locked_until', '<', nowIso()),
            ),
      )
      .selectFrom('suspects')
      .selectAll()
      .orderBy('created_at')
      .limit(limit)
      .execute()
    return rows.map((row) => ({ job: toJob(row), token: row.locked_by }))
  },

  async requeueForRelay(ids) {
    if (ids.length === 0) return
    await db
      .updateTable('jobs')
      .set({ relayed_at: null })
      .where('id', 'in', [...ids])
      .where('status', '=', 'queued')
      .execute()
  },

  async listIdsForRun(protocolRunId, statuses) {
    const rows = await db
      .selectFrom('jobs')
      .select('id')
      .where('protocol_run_id', '=', protocolRunId)
      .where('status', 'in', statusLiterals(RUN_INDEXED))
      .where('status', 'in', statusLiterals(statuses))
      .execute()
    return rows.map((row) => row.id)
  },

  async prune(endedBefore) {
    const result = await db
      .deleteFrom('jobs')
      .where('status', 'in', statusLiterals(ENDED))
      .where('ended_at', '<', endedBefore)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  },
})

/** RETURNING follows no order: the relay adds the oldest first, in the order the take picked them. */
const inCreationOrder = (rows: readonly JobRow[]): Job[] =>
  rows.map(toJob).sort((a, b) => compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id))

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
