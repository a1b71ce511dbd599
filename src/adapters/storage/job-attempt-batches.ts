import { sql, type RawBuilder } from 'kysely'
import type { JobClaim } from '../../app/job-claim.port.js'
import type { JobRepository, PrecheckFacts } from '../../app/ports.js'
import type { Job } from '../../domain/job.js'
import type { ProtocolStatus, StepStatus } from '../../domain/statuses.js'
import { coalesce } from './coalesce.js'
import { encodeJson, nowIso } from './columns.js'
import type { DatabaseHandle } from './database.js'
import { toJob, type JobRow } from './job.table.js'

export type AttemptBookkeeping = Pick<JobRepository, 'begin' | 'precheckFacts' | 'settle'>

type Op =
  | { readonly kind: 'begin'; readonly claim: JobClaim; readonly leaseUntil: string }
  | { readonly kind: 'precheck'; readonly job: Job }
  | { readonly kind: 'finish'; readonly claim: JobClaim; readonly result: string | null }

type Answer = Job | undefined | PrecheckFacts | boolean

interface FactsRow {
  readonly id: string
  readonly run_status: string | null
  readonly step_status: string | null
  readonly others: number
}

/**
 * The queue's bookkeeping of one process on Postgres, shared between the jobs it runs at once:
 * `begin`s, precheck reads and finished settlements that arrive while one is in flight go to the
 * server together as one statement (see `coalesce`; docs/decisions.md, Queue, "Shared round
 * trips"). Each row keeps its own guard (status, claim token), so a batch writes exactly what the
 * single statements did; only the round trips are shared, which is what a busy queue spends its
 * time on (docs/performance.md, "Queue"). A batch never holds two operations on one job, and a
 * job's precheck is only asked for after its `begin` returned, so it always reads in a later
 * statement than its own start, as the duplicate check needs. Other settlements are rare and keep
 * their single statement. On SQLite a statement is a function call, not a round trip: `single`
 * is returned as it is.
 */
export const batchAttemptBookkeeping = (
  { db, dialect }: DatabaseHandle,
  single: AttemptBookkeeping,
): AttemptBookkeeping => {
  if (dialect !== 'postgres') return single

  const run = coalesce<Op, Answer>(
    async (ops) => {
      const begins = ops.flatMap((op) => (op.kind === 'begin' ? [op] : []))
      const finishes = ops.flatMap((op) => (op.kind === 'finish' ? [op] : []))
      const prechecks = ops.flatMap((op) => (op.kind === 'precheck' ? [op.job] : []))
      const { rows } = await sql<JobRow & { finished_ids: string[] | null; facts: string | null }>`
        with ${sql.join([beginPart(begins), finishPart(finishes)])}
        select
          (select array_agg(id) from finished) as finished_ids,
          ${prechecks.length > 0 ? factsOf(prechecks) : sql`null`} as facts,
          begun.*
        from (select 1) as one left join begun on true`.execute(db)
      const finished = new Set(rows[0]?.finished_ids ?? [])
      const facts = new Map(
        (JSON.parse(rows[0]?.facts ?? '[]') as FactsRow[]).map((row) => [row.id, toFacts(row)]),
      )
      const begun = new Map(rows.filter((row) => row.id !== null).map((row) => [row.id, toJob(row)]))
      return ops.map((op) => {
        if (op.kind === 'begin') return begun.get(op.claim.jobId)
        if (op.kind === 'finish') return finished.has(op.claim.jobId)
        return facts.get(op.job.id) ?? toFacts(undefined)
      })
    },
    (op) => (op.kind === 'precheck' ? op.job.id : op.claim.jobId),
  )

  return {
    begin: async (claim, leaseUntil) => (await run({ kind: 'begin', claim, leaseUntil })) as Job | undefined,
    precheckFacts: async (job) => (await run({ kind: 'precheck', job })) as PrecheckFacts,
    settle: async (claim, settlement) =>
      settlement.status === 'finished'
        ? ((await run({ kind: 'finish', claim, result: encodeJson(settlement.result) })) as boolean)
        : single.settle(claim, settlement),
  }
}

// Each part is a data-modifying CTE; an empty list still yields its CTE, matching no row.
const beginPart = (begins: ReadonlyArray<Extract<Op, { kind: 'begin' }>>): RawBuilder<unknown> => {
  const rows = begins.map(
    ({ claim, leaseUntil }) =>
      sql`(${claim.jobId}::text, ${claim.attempt}::int, ${claim.maxAttempts}::int, ${claim.token}::text, ${leaseUntil}::timestamptz)`,
  )
  const input =
    rows.length > 0
      ? sql`(values ${sql.join(rows)})`
      : sql`(select null::text, null::int, null::int, null::text, null::timestamptz where false)`
  return sql`begun as (
    update jobs set status = 'started', attempts = v.attempt, max_attempts = v.max_attempts,
      started_at = ${nowIso()}, locked_by = v.token, locked_until = v.lease_until
    from ${input} as v(id, attempt, max_attempts, token, lease_until)
    where jobs.id = v.id and jobs.status in ('queued', 'started')
    returning jobs.*)`
}

const finishPart = (finishes: ReadonlyArray<Extract<Op, { kind: 'finish' }>>): RawBuilder<unknown> => {
  const rows = finishes.map(
    ({ claim, result }) => sql`(${claim.jobId}::text, ${claim.token}::text, ${result}::jsonb)`,
  )
  const input =
    rows.length > 0
      ? sql`(values ${sql.join(rows)})`
      : sql`(select null::text, null::text, null::jsonb where false)`
  return sql`finished as (
    update jobs set status = 'finished', ended_at = ${nowIso()}, result = v.result, error = null,
      locked_by = null, locked_until = null
    from ${input} as v(id, token, result)
    where jobs.id = v.id and jobs.locked_by = v.token
    returning jobs.id)`
}

/** The precheck facts of each job as a JSON array (read on the statement's snapshot, before its own writes). */
const factsOf = (jobs: readonly Job[]): RawBuilder<unknown> => {
  const rows = jobs.map(
    (job) =>
      sql`(${job.id}::text, ${job.protocolRunId ?? -1}::int, ${job.stepRunId ?? -1}::int, ${job.type}::text)`,
  )
  return sql`(select json_agg(json_build_object(
      'id', v.id,
      'run_status', (select status from protocol_runs where id = v.run_id),
      'step_status', (select status from step_runs where id = v.step_id),
      'others', (select count(*) from jobs where step_run_id = v.step_id and job_type = v.type
                   and status = 'started' and id <> v.id)))
    from (values ${sql.join(rows)}) as v(id, run_id, step_id, type))`
}

const toFacts = (row: FactsRow | undefined): PrecheckFacts => ({
  // Written only through the transition table, so always a catalogued status.
  runStatus: (row?.run_status ?? undefined) as ProtocolStatus | undefined,
  stepStatus: (row?.step_status ?? undefined) as StepStatus | undefined,
  otherStartedForStep: Number(row?.others ?? 0),
})
