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
      const { text, parameters } = batchQuery(ops)
      const { rows } = await db.executeQuery<
        Partial<JobRow> & { finished_ids: string[] | null; facts: string | null }
      >(CompiledQuery.raw(text, parameters))
      const finished = new Set(rows[0]?.finished_ids ?? [])
      const facts = new Map(
        (JSON.parse(rows[0]?.facts ?? '[]') as FactsRow[]).map((row) => [row.id, toFacts(row)]),
      )
      // Without begins the row has no job columns; with them, none matched leaves them null.
      const begun = new Map(
        rows.flatMap((row) => (row.id == null ? [] : [[row.id, toJob(row as JobRow)] as const])),
      )
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

/** Which kinds of operation a batch holds; each mix has a statement of its own. */
export interface BatchMix {
  readonly begins: boolean
  readonly finishes: boolean
  readonly prechecks: boolean
}

/**
 * The statement for one mix of kinds: each kind's rows come as parallel arrays (`unnest`), so
 * there are at most seven texts, each built once, prepared once per connection and planned once
 * (see `arrayRows`). A kind the batch does not hold is left out of the text rather than sent as
 * empty arrays: the server still starts and ends every node of a plan, and one text for every mix
 * cost each lone begin, precheck or settlement about twice its own work (docs/performance.md,
 * "Queue"). `begun` and `finished` are data-modifying CTEs; the facts are read on the statement's
 * snapshot, before its own writes, as a JSON array. Exported for its plan's test
 * (job-index-plans.test.ts): the precheck's count must keep to the running jobs' partial index.
 */
export const attemptBatchStatement = (mix: BatchMix): string => {
  const key = `${+mix.begins}${+mix.finishes}${+mix.prechecks}`
  let text = STATEMENTS.get(key)
  if (text === undefined) {
    text = buildStatement(mix)
    STATEMENTS.set(key, text)
  }
  return text
}

const STATEMENTS = new Map<string, string>()

type OpOf<K extends Op['kind']> = Extract<Op, { kind: K }>

/**
 * Each kind's parallel arrays in the order its part of the statement reads them: the SQL type the
 * text casts to, and the value one operation puts in it. The text and the parameters are both read
 * off this table, so their numbering cannot drift apart.
 */
const ARRAYS: { readonly [K in Op['kind']]: ReadonlyArray<readonly [string, (op: OpOf<K>) => unknown]> } = {
  begin: [
    ['text', (op) => op.claim.jobId],
    ['int', (op) => op.claim.attempt],
    ['int', (op) => op.claim.maxAttempts],
    ['text', (op) => op.claim.token],
    ['timestamptz', (op) => op.leaseUntil],
  ],
  finish: [
    ['text', (op) => op.claim.jobId],
    ['text', (op) => op.claim.token],
    ['jsonb', (op) => op.result],
  ],
  precheck: [
    ['text', (op) => op.job.id],
    ['int', (op) => op.job.protocolRunId ?? -1],
    ['int', (op) => op.job.stepRunId ?? -1],
    ['text', (op) => op.job.type],
  ],
}

/** `$1` is the time a begin or a settlement writes; a lone precheck writes nothing. */
const writesNow = (mix: BatchMix): boolean => mix.begins || mix.finishes

const buildStatement = (mix: BatchMix): string => {
  let next = writesNow(mix) ? 2 : 1
  const arrays = (kind: Op['kind']): string =>
    ARRAYS[kind].map(([type]) => arrayRows(next++, type)).join(', ')
  const ctes: string[] = []
  if (mix.begins)
    ctes.push(`begun as (
    update jobs set status = 'started', attempts = v.attempt, max_attempts = v.max_attempts,
      started_at = $1, locked_by = v.token, locked_until = v.lease_until
    from unnest(${arrays('begin')})
      as v(id, attempt, max_attempts, token, lease_until)
    where jobs.id = v.id and jobs.status in ('queued', 'started')
    returning jobs.*)`)
  if (mix.finishes)
    ctes.push(`finished as (
    update jobs set status = 'finished', ended_at = $1, result = v.result, error = null,
      locked_by = null, locked_until = null
    from unnest(${arrays('finish')}) as v(id, token, result)
    where jobs.id = v.id and jobs.locked_by = v.token
    returning jobs.id)`)
  const finishedIds = mix.finishes ? '(select array_agg(id) from finished)' : 'null::text[]'
  const facts = mix.prechecks
    ? `(select json_agg(json_build_object(
        'id', v.id,
        'run_status', (select status from protocol_runs where id = v.run_id),
        'step_status', (select status from step_runs where id = v.step_id),
        'others', (select count(*) from jobs where step_run_id = v.step_id and job_type = v.type
                     and status = 'started' and id <> v.id)))
      from unnest(${arrays('precheck')}) as v(id, run_id, step_id, type))`
    : 'null::text'
  return `
  ${ctes.length > 0 ? `with ${ctes.join(',\n  ')}` : ''}
  select ${finishedIds} as finished_ids, ${facts} as facts${mix.begins ? ', begun.*' : ''}
  from (select 1) as one${mix.begins ? ' left join begun on true' : ''}`
}

/** The kind's arrays, filled from the batch's operations of that kind (none when it has none). */
const arraysOf = <K extends Op['kind']>(kind: K, ops: readonly Op[]): unknown[][] => {
  const these = ops.filter((op): op is OpOf<K> => op.kind === kind)
  return these.length === 0 ? [] : ARRAYS[kind].map(([, value]) => these.map(value))
}

/** The statement of the batch's mix and its parameters, in the order the statement numbers them. */
const batchQuery = (ops: readonly Op[]): { readonly text: string; readonly parameters: unknown[] } => {
  const has = (kind: Op['kind']): boolean => ops.some((op) => op.kind === kind)
  const mix = { begins: has('begin'), finishes: has('finish'), prechecks: has('precheck') }
  const parameters = [
    ...(writesNow(mix) ? [nowIso()] : []),
    ...arraysOf('begin', ops),
    ...arraysOf('finish', ops),
    ...arraysOf('precheck', ops),
  ]
  return { text: attemptBatchStatement(mix), parameters }
}

const toFacts = (row: FactsRow | undefined): PrecheckFacts => ({
  // Written only through the transition table, so always a catalogued status.
  runStatus: (row?.run_status ?? undefined) as ProtocolStatus | undefined,
  stepStatus: (row?.step_status ?? undefined) as StepStatus | undefined,
  otherStartedForStep: Number(row?.others ?? 0),
})
