import { CompiledQuery } from 'kysely'
import type { JobClaim } from '../../app/job-claim.port.js'
import type { JobRepository, PrecheckFacts } from '../../app/ports.js'
import type { Job } from '../../domain/job.js'
import type { ProtocolStatus, StepStatus } from '../../domain/statuses.js'
import { coalesce } from './coalesce.js'
import { encodeJson, nowIso } from './columns.js'
import type { DatabaseHandle } from './database.js'
import { arrayRows } from './postgres-array-rows.js'
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
      const { rows } = await db.executeQuery<
        JobRow & { finished_ids: string[] | null; facts: string | null }
      >(CompiledQuery.raw(ATTEMPT_BATCH_STATEMENT, batchParameters(ops)))
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

/**
 * One SQL text for every batch, whatever its mix: each kind's rows come as parallel arrays
 * (`unnest`), so the text is built once and prepared once per connection, and the server plans it
 * once (see `arrayRows`). `begun` and `finished` are data-modifying CTEs; the facts are read on the
 * statement's snapshot, before its own writes, as a JSON array. Exported for its plan's test
 * (job-index-plans.test.ts): the precheck's count must keep to the running jobs' partial index.
 */
export const ATTEMPT_BATCH_STATEMENT = `
  with begun as (
    update jobs set status = 'started', attempts = v.attempt, max_attempts = v.max_attempts,
      started_at = $1, locked_by = v.token, locked_until = v.lease_until
    from unnest(${arrayRows(2, 'text')}, ${arrayRows(3, 'int')}, ${arrayRows(4, 'int')}, ${arrayRows(5, 'text')},
      ${arrayRows(6, 'timestamptz')})
      as v(id, attempt, max_attempts, token, lease_until)
    where jobs.id = v.id and jobs.status in ('queued', 'started')
    returning jobs.*),
  finished as (
    update jobs set status = 'finished', ended_at = $1, result = v.result, error = null,
      locked_by = null, locked_until = null
    from unnest(${arrayRows(7, 'text')}, ${arrayRows(8, 'text')}, ${arrayRows(9, 'jsonb')}) as v(id, token, result)
    where jobs.id = v.id and jobs.locked_by = v.token
    returning jobs.id)
  select
    (select array_agg(id) from finished) as finished_ids,
    (select json_agg(json_build_object(
        'id', v.id,
        'run_status', (select status from protocol_runs where id = v.run_id),
        'step_status', (select status from step_runs where id = v.step_id),
        'others', (select count(*) from jobs where step_run_id = v.step_id and job_type = v.type
                     and status = 'started' and id <> v.id)))
      from unnest(${arrayRows(10, 'text')}, ${arrayRows(11, 'int')}, ${arrayRows(12, 'int')}, ${arrayRows(13, 'text')})
        as v(id, run_id, step_id, type)) as facts,
    begun.*
  from (select 1) as one left join begun on true`

const batchParameters = (ops: readonly Op[]): unknown[] => {
  const begins = ops.flatMap((op) => (op.kind === 'begin' ? [op] : []))
  const finishes = ops.flatMap((op) => (op.kind === 'finish' ? [op] : []))
  const prechecks = ops.flatMap((op) => (op.kind === 'precheck' ? [op.job] : []))
  return [
    nowIso(),
    begins.map((op) => op.claim.jobId),
    begins.map((op) => op.claim.attempt),
    begins.map((op) => op.claim.maxAttempts),
    begins.map((op) => op.claim.token),
    begins.map((op) => op.leaseUntil),
    finishes.map((op) => op.claim.jobId),
    finishes.map((op) => op.claim.token),
    finishes.map((op) => op.result),
    prechecks.map((job) => job.id),
    prechecks.map((job) => job.protocolRunId ?? -1),
    prechecks.map((job) => job.stepRunId ?? -1),
    prechecks.map((job) => job.type),
  ]
}

const toFacts = (row: FactsRow | undefined): PrecheckFacts => ({
  // Written only through the transition table, so always a catalogued status.
  runStatus: (row?.run_status ?? undefined) as ProtocolStatus | undefined,
  stepStatus: (row?.step_status ?? undefined) as StepStatus | undefined,
  otherStartedForStep: Number(row?.others ?? 0),
})
