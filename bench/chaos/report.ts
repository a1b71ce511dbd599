import pg from 'pg'

/** Figures computed from the database once the campaign is over. */
export interface Figures {
  readonly runsByStatus: Record<string, number>
  /** Steps with more than one `step_completed` event. */
  readonly duplicateStepCompletions: number
  /** Steps still running or waiting for QA, and jobs neither ended nor held, after the reconciler window. */
  readonly stepsStuck: number
  readonly jobsNotEnded: number
  readonly jobs: number
  /** Jobs that needed more than one attempt (at-least-once delivery shows here, not in completions). */
  readonly jobsRetried: number
  readonly jobsFailed: number
  /** Per step: first job created to last job ended (execution and QA), in ms. */
  readonly stepLatencyMs: {
    readonly p50: number
    readonly p99: number
    readonly max: number
    readonly count: number
  }
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

/** `runIds`: the campaign's runs (projects' own setup runs are left out). */
export const collectFigures = async (url: string, runIds: readonly number[]): Promise<Figures> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const q = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      (await client.query<T>(text, values)).rows
    const statuses = await q<{ status: string; n: string }>(
      'select status, count(*) as n from protocol_runs where id = any($1::int[]) group by status',
      [runIds],
    )
    const [dup] = await q<{ n: string }>(`select count(*) as n from (select step_run_id from events
      where event_type = 'step_completed' group by step_run_id having count(*) > 1) d`)
    const [stuck] = await q<{ n: string }>(
      `select count(*) as n from step_runs where status in ('running', 'needs_qa')`,
    )
    const [jobs] = await q<{
      total: string
      open: string
      retried: string
      failed: string
    }>(`select count(*) as total,
      count(*) filter (where status in ('queued', 'started')) as open,
      count(*) filter (where attempts > 1) as retried,
      count(*) filter (where status = 'failed') as failed from jobs`)
    const latencies = await q<{
      ms: number
    }>(`select extract(epoch from (max(ended_at) - min(created_at))) * 1000 as ms
      from jobs where step_run_id is not null group by step_run_id
      having count(*) filter (where status <> 'finished') = 0 order by 1`)
    const sorted = latencies.map((row) => Number(row.ms))
    return {
      runsByStatus: Object.fromEntries(statuses.map((row) => [row.status, Number(row.n)])),
      duplicateStepCompletions: Number(dup?.n ?? 0),
      stepsStuck: Number(stuck?.n ?? 0),
      jobsNotEnded: Number(jobs?.open ?? 0),
      jobs: Number(jobs?.total ?? 0),
      jobsRetried: Number(jobs?.retried ?? 0),
      jobsFailed: Number(jobs?.failed ?? 0),
      stepLatencyMs: {
        p50: Math.round(percentile(sorted, 50)),
        p99: Math.round(percentile(sorted, 99)),
        max: Math.round(sorted.at(-1) ?? 0),
        count: sorted.length,
      },
    }
  } finally {
    await client.end()
  }
}
