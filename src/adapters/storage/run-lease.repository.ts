import type { Kysely, Selectable } from 'kysely'
import type { RunLeaseRepository, RunWork } from '../../app/runs/run-lease.port.js'
import { nowIso } from './columns.js'
import type { Database, StepRunsTable } from './schema.js'
import { toStepRun } from './step-run.table.js'

/** `run_leases`: a swap is an insert (no row yet) or an update guarded by the take it read. */
export const createRunLeaseRepository = (db: Kysely<Database>): RunLeaseRepository => ({
  async findWithHolder(protocolRunId) {
    // One read for the row and its holder: a start asked for them one after the other.
    const row = await db
      .selectFrom('run_leases as l')
      .leftJoin('step_runs as s', 's.id', 'l.step_run_id')
      .leftJoin('jobs as j', 'j.id', 'l.job_id')
      .selectAll('s')
      .select([
        'j.status as lease_job_status',
        'l.step_run_id as lease_step_run_id',
        'l.job_id as lease_job_id',
        'l.version as lease_version',
        'l.held_for as lease_held_for',
      ])
      .where('l.protocol_run_id', '=', protocolRunId)
      .executeTakeFirst()
    if (!row) return undefined
    const { lease_step_run_id, lease_job_id, lease_version, lease_held_for, lease_job_status, ...step } = row
    const lease = {
      protocolRunId,
      stepRunId: lease_step_run_id,
      jobId: lease_job_id,
      version: lease_version,
      ...(lease_held_for === null ? {} : { heldFor: lease_held_for as RunWork }),
    }
    return {
      lease,
      holder: step.id === null ? undefined : toStepRun(step as Selectable<StepRunsTable>),
      jobStarted: lease_job_status === 'started',
    }
  },

  async release(protocolRunId, jobId) {
    await db
      .deleteFrom('run_leases')
      .where('protocol_run_id', '=', protocolRunId)
      .where('job_id', '=', jobId)
      .execute()
  },

  async swap(next, expected) {
    const values = {
      step_run_id: next.stepRunId,
      job_id: next.jobId,
      held_for: next.heldFor ?? null,
      acquired_at: nowIso(),
    }
    if (expected === undefined) {
      // A concurrent insert of the same run waits for the other transaction, then does nothing.
      const inserted = await db
        .insertInto('run_leases')
        .values({ protocol_run_id: next.protocolRunId, ...values })
        .onConflict((oc) => oc.column('protocol_run_id').doNothing())
        .executeTakeFirst()
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1
    }
    // On the take, not the holder's step: a step that took its own lease again has a new version,
    // and a row released and inserted again (version 0 again) has another job.
    const updated = await db
      .updateTable('run_leases')
      .set((eb) => ({ ...values, version: eb('version', '+', 1) }))
      .where('protocol_run_id', '=', next.protocolRunId)
      .where('version', '=', expected.version)
      .where('job_id', '=', expected.jobId)
      .executeTakeFirst()
    return Number(updated.numUpdatedRows) === 1
  },
})
