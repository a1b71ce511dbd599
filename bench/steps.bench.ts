// npm run bench:steps — orchestration cost per step (plan → execute → QA → commit) with the
// bundled demo agent, on SQLite and Postgres, the agent's own process time subtracted.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createProtocolJobHandlers } from '../src/app/protocol/protocol-handlers.js'
import type { AgentEngine, EngineRegistry } from '../src/app/engine.port.js'
import type { JobHandlers } from '../src/app/queue-runtime/job-handler.js'
import { createProtocolJobDeps, startServer, type RunningServer } from '../src/composition/index.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logging.js'
import { PG_URL } from './load.js'
import { launchedCommands } from '../src/adapters/git/process-launcher.js'
import { countStatements, postgresCpuSeconds, processCpuSeconds } from './queue-shared.js'

const AGENT = fileURLToPath(new URL('../fixtures/agents/demo-agent.mjs', import.meta.url))
/** git processes the server started (each through the process launcher). */
const gitProcesses = {
  get count(): number {
    return launchedCommands()
  },
}

/** Statements this process sent to Postgres (BEGIN and COMMIT included): round trips, whatever the machine's mood. */
const statements = countStatements()

/** Runs per dialect; the demo agent plans three steps each. */
const RUNS = Number(process.env.BENCH_RUNS ?? 10)
/** Steps measured before these are left out (module loading, first statements, first git calls). */
const WARMUP_RUNS = 1

/** What the bench records of one run: planning and each step, wall time and the agent's share. */
interface Span {
  readonly wallMs: number
  readonly agentMs: number
  /** Of the orchestration, the time spent in git commands (worktree, commit, status). */
  readonly gitMs: number
  /** git processes started during the span. */
  readonly gitProcesses: number
  /** Postgres statements sent during the span (0 on SQLite). */
  readonly statements: number
  /** CPU seconds of this process (the server, its queue and handlers; not the agent or git) in the span. */
  readonly cpuSeconds: number
  /** CPU seconds of every Postgres process in the span (0 on SQLite; clock ticks of 10 ms). */
  readonly postgresCpuSeconds: number
}

/**
 * The engines as configured, each call's agent process time (spawn to exit, as the engine measures
 * it) added to whichever span is open: calls run one at a time, so the open span is the caller's.
 */
const timedEngines = (registry: EngineRegistry, agentTime: { ms: number }): EngineRegistry => {
  const wrap = (engine: AgentEngine): AgentEngine => ({
    ...engine,
    run: async (input) => {
      const result = await engine.run(input)
      agentTime.ms += result.durationMs
      return result
    },
  })
  return {
    get: (id) => wrap(registry.get(id)),
    has: (id) => registry.has(id),
    defaultId: registry.defaultId,
    ids: () => registry.ids(),
  }
}

/** Time spent in each method of a port (git, files), summed by method name. */
const portTimes = new Map<string, number>()
/** Time inside the git port, summed (git runs one command at a time per job). */
const gitTime = { ms: 0 }
const timedPort = <T extends object>(name: string, port: T): T =>
  new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown
      if (typeof value !== 'function') return value
      const label = `${name}.${String(key)}`
      return (...args: unknown[]) => {
        const started = performance.now()
        const add = () => {
          const ms = performance.now() - started
          portTimes.set(label, (portTimes.get(label) ?? 0) + ms)
          if (name === 'git') gitTime.ms += ms
        }
        const result = (value as (...a: unknown[]) => unknown).apply(target, args)
        if (result instanceof Promise) return result.finally(add)
        add()
        return result
      }
    },
  })

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], {
    cwd,
    stdio: 'ignore',
  })

const makeRepo = (path: string): string => {
  mkdirSync(path, { recursive: true })
  git(path, 'init', '--initial-branch=main')
  writeFileSync(join(path, 'README.md'), '# bench\n')
  git(path, 'add', '.')
  git(path, 'commit', '-m', 'initial')
  return path
}

const createPgDatabase = async (): Promise<{ url: string; drop: () => Promise<void> }> => {
  const name = `tgz_steps_${Date.now()}`
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`create database ${name}`)
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) }
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const benchDialect = async (dialect: 'sqlite' | 'postgres'): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'tgz-steps-'))
  const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined
  const repo = makeRepo(join(dir, 'repo'))
  const config = loadConfig(
    {
      ...(pgDb ? { TASKSGODZILLA_DB_URL: pgDb.url } : { TASKSGODZILLA_DB_PATH: join(dir, 'bench.sqlite') }),
      TASKSGODZILLA_PROJECTS_ROOT: join(dir, 'projects'),
      TASKSGODZILLA_LOGS_DIR: join(dir, 'logs'),
      TASKSGODZILLA_COMMAND_ENGINE: AGENT,
      TASKSGODZILLA_DEFAULT_ENGINE: 'command',
      TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
      TASKSGODZILLA_LOG_LEVEL: 'warn',
    },
    dir,
  )
  const agentTime = { ms: 0 }
  /** Resolves when the handler of a job for this step (or run, for planning) returns. */
  const waiters = new Map<string, () => void>()
  const settled = (key: string) => new Promise<void>((resolve) => waiters.set(key, resolve))
  const handlerTimes = new Map<string, number[]>()
  const handlerStatements = new Map<string, number[]>()
  const makeHandlers = (handlers: JobHandlers): JobHandlers =>
    Object.fromEntries(
      Object.entries(handlers).map(([type, handler]) => [
        type,
        async (payload: Record<string, unknown>, attempt: unknown) => {
          const started = performance.now()
          const agentBefore = agentTime.ms
          const statementsBefore = statements()
          try {
            return await (handler as (p: unknown, a: unknown) => Promise<unknown>)(payload, attempt)
          } finally {
            const own = performance.now() - started - (agentTime.ms - agentBefore)
            handlerTimes.set(type, [...(handlerTimes.get(type) ?? []), own])
            const sent = statements() - statementsBefore
            handlerStatements.set(type, [...(handlerStatements.get(type) ?? []), sent])
            const key = payload.step_run_id !== undefined ? `${type}:${String(payload.step_run_id)}` : type
            waiters.get(key)?.()
          }
        },
      ]),
    ) as unknown as JobHandlers
  let server: RunningServer | undefined
  try {
    server = await startServer(config, createLogger(config), { port: 0 }, (runtime) => {
      const deps = createProtocolJobDeps(runtime)
      return {
        makeHandlers: () =>
          makeHandlers(
            createProtocolJobHandlers({
              ...deps,
              engines: timedEngines(deps.engines, agentTime),
              git: timedPort('git', deps.git),
              files: timedPort('files', deps.files),
              baseSync: timedPort('baseSync', deps.baseSync),
            }),
          ),
      }
    })
    const base = server.address
    const call = async (method: string, path: string, body: unknown = {}) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (!response.ok)
        throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`)
      return (await response.json()) as { id: number; status?: string }
    }
    const read = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T
    const project = await call('POST', '/projects', {
      name: `steps-${Date.now().toString(36)}`,
      git_url: repo,
      local_path: repo,
      default_models: { engine: 'command' },
    })
    const plans: Span[] = []
    const steps: Span[] = []
    for (let r = 0; r < RUNS + WARMUP_RUNS; r++) {
      const run = await call('POST', `/projects/${project.id}/protocols`, {
        protocol_name: `0001-bench-${r}`,
      })
      const span = async (key: string, request: () => Promise<unknown>): Promise<Span> => {
        const done = settled(key)
        const agentBefore = agentTime.ms
        const gitBefore = gitTime.ms
        const processesBefore = gitProcesses.count
        const statementsBefore = statements()
        // /proc is read before this process's CPU is, so the reading is not counted as the server's work.
        const postgresBefore = dialect === 'postgres' ? postgresCpuSeconds() : 0
        const cpuBefore = processCpuSeconds()
        const started = performance.now()
        await request()
        await done
        return {
          wallMs: performance.now() - started,
          agentMs: agentTime.ms - agentBefore,
          gitMs: gitTime.ms - gitBefore,
          gitProcesses: gitProcesses.count - processesBefore,
          statements: statements() - statementsBefore,
          cpuSeconds: processCpuSeconds() - cpuBefore,
          postgresCpuSeconds: dialect === 'postgres' ? postgresCpuSeconds() - postgresBefore : 0,
        }
      }
      const plan = await span('plan_protocol_job', () => call('POST', `/protocols/${run.id}/actions/start`))
      const status = (await read<{ status: string }>(`/protocols/${run.id}`)).status
      if (status !== 'planned') throw new Error(`run ${run.id} is ${status} after planning`)
      if (r >= WARMUP_RUNS) plans.push(plan)
      const runSteps = await read<Array<{ id: number }>>(`/protocols/${run.id}/steps`)
      for (const step of runSteps) {
        const measured = await span(`run_quality_job:${step.id}`, () =>
          call('POST', `/steps/${step.id}/actions/run`),
        )
        if (r >= WARMUP_RUNS) steps.push(measured)
      }
      const final = await read<Array<{ status: string }>>(`/protocols/${run.id}/steps`)
      if (final.some((s) => s.status !== 'completed'))
        throw new Error(`run ${run.id} steps ended ${final.map((s) => s.status).join(',')}`)
    }
    report(dialect, plans, steps, { handlerTimes, handlerStatements })
  } finally {
    await server?.stop()
    await pgDb?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (n: number) => n.toFixed(0).padStart(5)

const report = (
  dialect: string,
  plans: Span[],
  steps: Span[],
  handlers: { handlerTimes: Map<string, number[]>; handlerStatements: Map<string, number[]> },
): void => {
  const line = (label: string, values: number[], unit = 'ms') =>
    console.log(
      `  ${label.padEnd(46)} p50 ${fmt(percentile(values, 50))} ${unit}  p99 ${fmt(percentile(values, 99))} ${unit}`,
    )
  const perStep = plans.length / steps.length
  const planShare = plans.map((p) => (p.wallMs - p.agentMs) * perStep)
  console.log(`\n${dialect}: ${plans.length} runs, ${steps.length} steps (after ${WARMUP_RUNS} warm-up run)`)
  line(
    'step wall time (run → executed → QA → committed)',
    steps.map((s) => s.wallMs),
  )
  line(
    '  agent process time (execute + QA agents)',
    steps.map((s) => s.agentMs),
  )
  line(
    '  orchestration per step (wall − agent)',
    steps.map((s) => s.wallMs - s.agentMs),
  )
  line(
    '    of which git commands',
    steps.map((s) => s.gitMs),
  )
  line(
    '      git processes per step',
    steps.map((s) => s.gitProcesses),
    '  ',
  )
  line(
    '    other (wall − agent − git)',
    steps.map((s) => s.wallMs - s.agentMs - s.gitMs),
  )
  line(
    'planning wall time per run',
    plans.map((p) => p.wallMs),
  )
  line(
    '  orchestration per run (wall − planner agent)',
    plans.map((p) => p.wallMs - p.agentMs),
  )
  line(
    '    git processes per run',
    plans.map((p) => p.gitProcesses),
    '  ',
  )
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length
  const cpu = mean(steps.map((s) => s.cpuSeconds)) * 1000
  const postgres = mean(steps.map((s) => s.postgresCpuSeconds)) * 1000
  console.log(
    `  ${'CPU per step (mean): this process + Postgres'.padEnd(46)} ${(cpu + postgres).toFixed(1).padStart(5)} ms  (${cpu.toFixed(1)} + ${postgres.toFixed(1)})`,
  )
  const combined = steps.map((s, i) => s.wallMs - s.agentMs + planShare[Math.floor(i * perStep)]!)
  line('COST PER STEP: orchestration + planning share', combined)
  for (const [type, times] of handlers.handlerTimes) line(`  in handler ${type} (agent subtracted)`, times)
  if (dialect === 'postgres') {
    line(
      'Postgres statements per step (handlers, API, claims)',
      steps.map((s) => s.statements),
      '  ',
    )
    line(
      '  per planning run',
      plans.map((p) => p.statements),
      '  ',
    )
    for (const [type, sent] of handlers.handlerStatements) line(`  in handler ${type}`, sent, '  ')
  }
  const total = steps.length + plans.length
  for (const [label, ms] of [...portTimes].sort((a, b) => b[1] - a[1]))
    console.log(`  ${label.padEnd(46)} ${(ms / total).toFixed(1).padStart(7)} ms per step or plan (mean)`)
  portTimes.clear()
}

const dialects = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>
for (const dialect of dialects) await benchDialect(dialect)
