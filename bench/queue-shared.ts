/** What bench/queue.bench.ts and its worker processes (bench/queue-worker.ts) share. */
import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'
import type { JobHandler, JobHandlerDeps, JobHandlers } from '../src/app/queue-runtime/job-handler.js'
import { moveStep } from '../src/app/protocol/execution/step-outcomes.js'
import { JOB_TYPES, type JobType } from '../src/domain/job.js'

export const CONCURRENCY_PER_WORKER = 4

/**
 * Counts every statement this process sends to Postgres (BEGIN and COMMIT included), so the bench
 * can report round trips per job, a figure that does not depend on how loaded the machine is.
 * With `BENCH_STATEMENT_TEXTS=N` it also prints, on exit, the N texts it sent most often (setup
 * and warm-up included): where the round trips go.
 */
export const countStatements = (): (() => number) => {
  let statements = 0
  const texts = new Map<string, number>()
  const shown = Number(process.env.BENCH_STATEMENT_TEXTS ?? 0)
  if (shown > 0) process.on('exit', () => printStatementTexts(texts, shown))
  const originalQuery = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    statements += 1
    if (shown > 0) {
      const text = statementText(args[0])
      texts.set(text, (texts.get(text) ?? 0) + 1)
    }
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof pg.Client.prototype.query
  return () => statements
}

const statementText = (query: unknown): string => {
  const text = typeof query === 'string' ? query : ((query as { text?: string } | null)?.text ?? '?')
  return text.replace(/\s+/g, ' ').trim().slice(0, 120)
}

const printStatementTexts = (texts: ReadonlyMap<string, number>, shown: number): void => {
  const top = [...texts].sort((a, b) => b[1] - a[1]).slice(0, shown)
  console.log(`\nstatements sent, by text (${shown} most frequent):`)
  for (const [text, count] of top) console.log(`${String(count).padStart(7)}  ${text}`)
}

/** The no-op handler: a real step transition and its event, in one transaction, as outcomes move steps. */
export const noopHandlers = ({ uow }: JobHandlerDeps): JobHandlers => {
  const handlers: Partial<Record<JobType, JobHandler>> = {}
  for (const type of JOB_TYPES) handlers[type] = async () => null
  handlers.execute_step_job = (async (payload: { step_run_id: number }) => {
    await uow.run((repos) =>
      moveStep(repos, payload.step_run_id, 'approve', {
        event: { type: 'step_completed', message: 'noop' },
        origin: {},
      }),
    )
  }) as JobHandler
  return handlers as JobHandlers
}

/** This process's CPU time in seconds. */
export const processCpuSeconds = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/**
 * CPU seconds used so far by the Postgres server's processes (ended backends included, through
 * the postmaster's children times), read from /proc; 0 where there is none (not Linux, remote server).
 */
export const postgresCpuSeconds = (): number => {
  let ticks = 0
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return 0
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime, stime, cutime, cstime (fields 14-17 of proc(5)); clock ticks are 100 per second on Linux.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100
}

/**
 * CPU clock ticks so far of each live Postgres backend connected to `database`, by pid (from
 * /proc; empty where there is none). Unlike `postgresCpuSeconds`, other databases' backends (other
 * engineers' tests on a shared server) are left out; so are the server's shared processes (WAL
 * writer, checkpointer) and backends that end within the window.
 */
export const backendTicks = (database: string): Map<string, number> => {
  const ticks = new Map<string, number>()
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return ticks
  }
  for (const pid of pids) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!command.startsWith('postgres: ') || !command.includes(` ${database} `)) continue
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks.set(pid, Number(fields[11]) + Number(fields[12]))
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks
}

/** CPU seconds the backends of `before`'s database used since it was taken (new backends from 0). */
export const backendSecondsSince = (before: Map<string, number>, after: Map<string, number>): number => {
  let ticks = 0
  for (const [pid, now] of after) ticks += now - (before.get(pid) ?? 0)
  return ticks / 100
}
