import { sql, type RawBuilder } from 'kysely'
import type { JobClaim } from '../../app/jobs/job-claim.js'
import type { JobRepository, PrecheckFacts } from '../../app/ports.js'
import type { Job } from '../../domain/job.js'
import type { ProtocolStatus, StepStatus } from '../../domain/statuses.js'
import { coalesce } from './coalesce.js'
import { encodeJson, nowIso } from './columns.js'
import type { DatabaseHandle } from './database.js'
import { toJob, type JobRow } from './job.table.js'

export type AttemptBookkeeping = Pick<JobRepository, 'begin' | 'precheckFacts' | 'settle'>

/**
 * The queue's bookkeeping of one process on Postgres, shared between the jobs it runs at once:
 * `begin`s, precheck reads and finished settlements that arrive while one of their kind is in
 * flight go to the server together as one statement (see `coalesce`). Each row keeps its own
 * guard (status, claim token), so a batch decides exactly what the single statements did; only
 * the round trips are shared, which is what a busy queue spends its time on (docs/performance.md,
 * "Queue"). Other settlements are rare and keep their single statement. On SQLite a statement is
 * a function call, not a round trip: `single` is returned as it is.
 */
export const batchAttemptBookkeeping = (
  { db, dialect }: DatabaseHandle,
  single: AttemptBookkeeping,
): AttemptBookkeeping => {
  if (dialect !== 'postgres') return single

  const begin = coalesce<{ claim: JobClaim; leaseUntil: string }, Job | undefined>(
    async (calls) => {
      const rows = values(
        calls.map(
          ({ claim, leaseUntil }) =>
            sql`(${claim.jobId}::text, ${claim.attempt}::int, ${claim.maxAttempts}::int, ${claim.token}::text, ${leaseUntil}::timestamptz)`,
        ),
      )
      const { rows: begun } = await sql<JobRow>`
        update jobs set status = 'started', attempts = v.attempt, max_attempts = v.max_attempts,
          started_at = ${nowIso()}, locked_by = v.token, locked_until = v.lease_until
        from ${rows} as v(id, attempt, max_attempts, token, lease_until)
        where jobs.id = v.id and jobs.status in ('queued', 'started')
        returning jobs.*`.execute(db)
      const byId = new Map(begun.map((row) => [row.id, toJob(row)]))
      return calls.map(({ claim }) => byId.get(claim.jobId))
    },
    ({ claim }) => claim.jobId,
  )

  const precheckFacts = coalesce<Job, PrecheckFacts>(
    async (jobs) => {
      const rows = values(
        jobs.map(
          (job) =>
            sql`(${job.id}::text, ${job.protocolRunId ?? -1}::int, ${job.stepRunId ?? -1}::int, ${job.type}::text)`,
        ),
      )
      const { rows: facts } = await sql<{
        id: string
        run_status: string | null
        step_status: string | null
        others: number | string
      }>`
        select v.id,
          (select status from protocol_runs where id = v.run_id) as run_status,
          (select status from step_runs where id = v.step_id) as step_status,
          (select count(*) from jobs where step_run_id = v.step_id and job_type = v.type
             and status = 'started' and id <> v.id) as others
        from ${rows} as v(id, run_id, step_id, type)`.execute(db)
      const byId = new Map(facts.map((row) => [row.id, row]))
      return jobs.map((job) => {
        const row = byId.get(job.id)
        return {
          // Written only through the transition table, so always a catalogued status.
          runStatus: (row?.run_status ?? undefined) as ProtocolStatus | undefined,
          stepStatus: (row?.step_status ?? undefined) as StepStatus | undefined,
          otherStartedForStep: Number(row?.others ?? 0),
        }
      })
    },
    (job) => job.id,
  )

  const settleFinished = coalesce<{ claim: JobClaim; result: string | null }, boolean>(
    async (calls) => {
      const rows = values(
        calls.map(({ claim, result }) => sql`(${claim.jobId}::text, ${claim.token}::text, ${result}::jsonb)`),
      )
      const { rows: settled } = await sql<{ id: string }>`
        update jobs set status = 'finished', ended_at = ${nowIso()}, result = v.result, error = null,
          locked_by = null, locked_until = null
        from ${rows} as v(id, token, result)
        where jobs.id = v.id and jobs.locked_by = v.token
        returning jobs.id`.execute(db)
      const ids = new Set(settled.map((row) => row.id))
      return calls.map(({ claim }) => ids.has(claim.jobId))
    },
    ({ claim }) => claim.jobId,
  )

  return {
    begin: (claim, leaseUntil) => begin({ claim, leaseUntil }),
    precheckFacts,
    settle: (claim, settlement) =>
      settlement.status === 'finished'
        ? settleFinished({ claim, result: encodeJson(settlement.result) })
        : single.settle(claim, settlement),
  }
}

const values = (rows: readonly RawBuilder<unknown>[]): RawBuilder<unknown> => sql`(values ${sql.join(rows)})`
