import type { Kysely } from 'kysely'
import type { RunLeaseRepository } from '../../app/runs/run-lease.port.js'
import { nowIso } from './columns.js'
import type { Database } from './schema.js'

/** `run_leases`: a swap is an insert (no row yet) or an update guarded by the expected holder. */
export const createRunLeaseRepository = (db: Kysely<Database>): RunLeaseRepository => ({
  async find(protocolRunId) {
    const row = await db
      .selectFrom('run_leases')
      .select(['protocol_run_id', 'step_run_id', 'job_id'])
      .where('protocol_run_id', '=', protocolRunId)
      .executeTakeFirst()
    return row && { protocolRunId: row.protocol_run_id, stepRunId: row.step_run_id, jobId: row.job_id }
  },

  async swap(next, expectedStepRunId) {
    const values = { step_run_id: next.stepRunId, job_id: next.jobId, acquired_at: nowIso() }
    if (expectedStepRunId === undefined) {
      // A concurrent insert of the same run waits for the other transaction, then does nothing.
      const inserted = await db
        .insertInto('run_leases')
        .values({ protocol_run_id: next.protocolRunId, ...values })
        .onConflict((oc) => oc.column('protocol_run_id').doNothing())
        .executeTakeFirst()
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1
    }
    const updated = await db
      .updateTable('run_leases')
      .set(values)
      .where('protocol_run_id', '=', next.protocolRunId)
      .where('step_run_id', '=', expectedStepRunId)
      .executeTakeFirst()
    return Number(updated.numUpdatedRows) === 1
  },
})
