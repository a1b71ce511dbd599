import pg from 'pg'

/** What the campaign reads straight from Postgres (the API is for actions, as a user's would be). */
export interface RunState {
  readonly id: number
  readonly status: string
  readonly steps: readonly string[]
}

export interface Observer {
  /** Status of each run and of its steps, in step order. */
  runStates(runIds: readonly number[]): Promise<Map<number, RunState>>
  /** Ids of jobs running under a worker process (its claim token starts with `worker-<pid>-`). */
  jobsHeldBy(pid: number): Promise<string[]>
  /** Jobs started and not ended at this moment. */
  jobsInFlight(): Promise<string[]>
  /** Finish times of these jobs (ms), undefined while one has not ended. */
  lastEnd(jobIds: readonly string[]): Promise<number | undefined>
  /** The first time (ms) a job ended at or after `since`. */
  firstEndAfter(since: number): Promise<number | undefined>
  /** Connections of this database per application name (one per process), open and busy. */
  connections(): Promise<Array<{ name: string; open: number; active: number }>>
  close(): Promise<void>
}

const ms = (value: unknown): number => new Date(value as string).getTime()

export const createObserver = (url: string): Observer => {
  // A small pool that reconnects by itself after a Postgres restart.
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 })
  pool.on('error', () => undefined)
  const rows = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await pool.query<T>(text, values)).rows
  return {
    runStates: async (runIds) => {
      const runs = await rows<{ id: number; status: string }>(
        'select id, status from protocol_runs where id = any($1::int[])',
        [runIds],
      )
      const steps = await rows<{ protocol_run_id: number; status: string }>(
        'select protocol_run_id, status from step_runs where protocol_run_id = any($1::int[]) order by step_index, id',
        [runIds],
      )
      return new Map(
        runs.map((run) => [
          run.id,
          { ...run, steps: steps.filter((s) => s.protocol_run_id === run.id).map((s) => s.status) },
        ]),
      )
    },
    jobsHeldBy: async (pid) =>
      (
        await rows<{ id: string }>(`select id from jobs where status = 'started' and locked_by like $1`, [
          `worker-${pid}-%`,
        ])
      ).map((r) => r.id),
    jobsInFlight: async () =>
      (await rows<{ id: string }>(`select id from jobs where status = 'started'`)).map((r) => r.id),
    lastEnd: async (jobIds) => {
      if (jobIds.length === 0) return undefined
      const ended = await rows<{ ended_at: unknown; status: string }>(
        'select ended_at, status from jobs where id = any($1::text[])',
        [jobIds],
      )
      if (ended.some((r) => r.ended_at === null || r.status === 'started' || r.status === 'queued'))
        return undefined
      return Math.max(...ended.map((r) => ms(r.ended_at)))
    },
    firstEndAfter: async (since) => {
      const [row] = await rows<{ first: unknown }>(
        'select min(ended_at) as first from jobs where ended_at >= $1',
        [new Date(since).toISOString()],
      )
      return row?.first ? ms(row.first) : undefined
    },
    connections: async () =>
      (
        await rows<{ name: string; open: string; active: string }>(
          `select application_name as name, count(*) as open,
             count(*) filter (where state not in ('idle')) as active
           from pg_stat_activity where datname = current_database() and application_name like 'tgz-%'
           group by application_name`,
        )
      ).map((r) => ({ name: r.name, open: Number(r.open), active: Number(r.active) })),
    close: () => pool.end(),
  }
}
