import type { Kysely } from 'kysely'
import type { JobRepository } from '../../app/ports.js'
import type { JobSettlement } from '../../app/job-claim.port.js'
import type { ProtocolStatus, StepStatus } from '../../domain/statuses.js'
import { encodeJson, nowIso } from './columns.js'
import { RUN_INDEXED, statusLiteral, statusLiterals } from './job-status-terms.js'
import { toJob } from './job.table.js'
import type { Database, JobsTable } from './schema.js'
import type { Updateable } from 'kysely'

type AttemptMethods = Pick<
  JobRepository,
  'cancelForRun' | 'releaseHeld' | 'begin' | 'renewLease' | 'settle' | 'listStartedForStep' | 'precheckFacts'
>

/**
 * The job-row writes of the queue's life cycle, shared by both backends. Every write about an
 * attempt is guarded by its claim token (`locked_by`), so a worker that lost its lease writes nothing.
 */
export const createJobAttemptMethods = (db: Kysely<Database>): AttemptMethods => ({
  async cancelForRun(protocolRunId) {
    const rows = await db
      .updateTable('jobs')
      .set({ status: 'cancelled', ended_at: nowIso(), error: 'Run cancelled', locked_by: null })
      .where('protocol_run_id', '=', protocolRunId)
      .where('status', 'in', statusLiterals(RUN_INDEXED))
      .where('status', 'in', statusLiterals(['queued', 'held']))
      .returning('id')
      .execute()
    return rows.map((row) => row.id)
  },

  async releaseHeld(protocolRunId) {
    const rows = await db
      .updateTable('jobs')
      .set({ status: 'queued', next_run_at: nowIso(), relayed_at: null, locked_by: null })
      .where('protocol_run_id', '=', protocolRunId)
      .where('status', '=', statusLiteral('held'))
      .returningAll()
      .execute()
    return rows.map(toJob)
  },

  async begin(claim, leaseUntil) {
    const row = await db
      .updateTable('jobs')
      .set({
        status: 'started',
        attempts: claim.attempt,
        max_attempts: claim.maxAttempts,
        started_at: nowIso(),
        locked_by: claim.token,
        locked_until: leaseUntil,
      })
      .where('id', '=', claim.jobId)
      .where('status', 'in', ['queued', 'started'])
      .returningAll()
      .executeTakeFirst()
    return row ? toJob(row) : undefined
  },

  async renewLease(claim, leaseUntil) {
    const result = await db
      .updateTable('jobs')
      .set({ locked_until: leaseUntil })
      .where('id', '=', claim.jobId)
      .where('locked_by', '=', claim.token)
      .where('status', '=', 'started')
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  },

  async settle(claim, settlement) {
    const result = await db
      .updateTable('jobs')
      .set({ ...settlementColumns(settlement, claim.attempt), locked_by: null, locked_until: null })
      .where('id', '=', claim.jobId)
      .where('locked_by', '=', claim.token)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  },

  async listStartedForStep(stepRunId, type, exceptId) {
    const rows = await db
      .selectFrom('jobs')
      .selectAll()
      .where('step_run_id', '=', stepRunId)
      .where('job_type', '=', type)
      .where('status', '=', statusLiteral('started'))
      .where('id', '!=', exceptId)
      .orderBy('started_at', 'asc')
      .orderBy('id', 'asc')
      .execute()
    return rows.map(toJob)
  },

  async precheckFacts(job) {
    const { protocolRunId: runId, stepRunId: stepId } = job
    const row = await db
      .selectNoFrom((eb) => [
        eb
          .selectFrom('protocol_runs')
          .select('status')
          .where('id', '=', runId ?? -1)
          .as('run_status'),
        eb
          .selectFrom('step_runs')
          .select('status')
          .where('id', '=', stepId ?? -1)
          .as('step_status'),
        eb
          .selectFrom('jobs')
          .select((inner) => inner.fn.countAll<number | string>().as('n'))
          .where('step_run_id', '=', stepId ?? -1)
          .where('job_type', '=', job.type)
          .where('status', '=', statusLiteral('started'))
          .where('id', '!=', job.id)
          .as('others'),
      ])
      .executeTakeFirstOrThrow()
    return {
      // Written only through the transition table, so always a catalogued status.
      runStatus: (row.run_status ?? undefined) as ProtocolStatus | undefined,
      stepStatus: (row.step_status ?? undefined) as StepStatus | undefined,
      otherStartedForStep: Number(row.others ?? 0),
    }
  },
})

const settlementColumns = (settlement: JobSettlement, attempt: number): Updateable<JobsTable> => {
  const now = nowIso()
  switch (settlement.status) {
    case 'finished':
      return { status: 'finished', ended_at: now, result: encodeJson(settlement.result), error: null }
    case 'queued':
      return { status: 'queued', next_run_at: settlement.nextRunAt, error: settlement.error }
    case 'failed':
    case 'cancelled':
      return { status: settlement.status, ended_at: now, error: settlement.error }
    // Neither counts as an attempt: the handler never ran (held) or was interrupted (released).
    case 'held':
      return { status: 'held', attempts: attempt - 1 }
    case 'released':
      return { status: 'queued', attempts: attempt - 1, next_run_at: now }
    case 'deferred':
      return { status: 'queued', attempts: attempt - 1, next_run_at: settlement.nextRunAt }
  }
}
