import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createSampleRepo, demoAgentPath } from '../../src/composition/demo/demo-environment.js'
import { apiClient, ApiRefusal, persist, type Call } from './api-client.js'
import type { Backend } from './backends.js'
import { startApi, startWorker, stopProcess, type ServerProcess } from './cluster.js'
import { measureFaults, type Fault, type FaultRecovery } from './faults.js'
import { createObserver, type Observer, type RunState } from './observer.js'
import { collectFigures, type Figures } from './report.js'

export interface CampaignOptions {
  readonly dir: string
  /** Database the processes use (fresh) and, when restartable, its server. */
  readonly databaseUrl: string
  readonly postgres: Backend
  readonly redis: Backend
  readonly runs: number
  /** Runs in progress at once (the rest wait for a slot). */
  readonly parallelRuns: number
  readonly apis: number
  readonly workers: number
  readonly workerConcurrency: number
  /** SIGKILL a random worker this often (restarted a second later); undefined: never. */
  readonly killEveryMs?: number
  readonly maxKills?: number
  /**
   * Kill a worker holding a job rather than any worker. Harsher than a random kill: with few jobs in
   * flight the same job is hit again and again, and a job whose worker dies on every attempt fails.
   */
  readonly killBusy?: boolean
  /** Restart Redis / Postgres once when this share of the runs has completed (0..1). */
  readonly restartRedisAt?: number
  readonly restartPostgresAt?: number
  readonly outageMs: number
  readonly deadlineMs: number
  /** How long stuck steps may take to be picked up again after the runs end (the reconciler window). */
  readonly settleMs: number
  /** TASKSGODZILLA_DB_POOL_SIZE of every process (default 5). */
  readonly poolSize?: number
  readonly log: (line: string) => void
}

export interface CampaignReport extends Figures {
  readonly runs: number
  readonly runsCompleted: number
  readonly runsLost: number
  readonly durationMs: number
  readonly faults: readonly FaultRecovery[]
  /** Per process kind: the most Postgres connections one process had open, and had busy, at a sample. */
  readonly connectionsPeak: Record<string, { readonly open: number; readonly active: number }>
  /** Processes that exited without being killed by the campaign (should be none). */
  readonly processesDied: readonly string[]
}

interface Progress {
  waiting: number
  active: number
}

const ACTIVE = new Set(['pending', 'planning', 'planned', 'running'])
const IN_FLIGHT = new Set(['running', 'needs_qa'])
const TOKEN = 'chaos-campaign-token'

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })

const processEnv = (options: CampaignOptions): Record<string, string> => ({
  TASKSGODZILLA_DB_URL: options.databaseUrl,
  TASKSGODZILLA_REDIS_URL: options.redis.url,
  TASKSGODZILLA_API_TOKEN: TOKEN,
  TASKSGODZILLA_COMMAND_ENGINE: demoAgentPath(),
  TASKSGODZILLA_DEFAULT_ENGINE: 'command',
  TASKSGODZILLA_AUTO_QA_AFTER_EXEC: 'true',
  TASKSGODZILLA_PROJECTS_ROOT: join(options.dir, 'projects'),
  TASKSGODZILLA_LOGS_DIR: join(options.dir, 'agent-logs'),
  TASKSGODZILLA_LOG_JSON: 'true',
  TASKSGODZILLA_ENV: 'chaos',
  TASKSGODZILLA_DB_POOL_SIZE: String(options.poolSize ?? 5),
})

/** Each process names its Postgres connections, so that pg_stat_activity tells them apart. */
const named = (env: Record<string, string>, name: string): Record<string, string> => {
  const url = new URL(env.TASKSGODZILLA_DB_URL!)
  url.searchParams.set('application_name', `tgz-${name}`)
  return { ...env, TASKSGODZILLA_DB_URL: url.toString() }
}

/** Samples pg_stat_activity every second; keeps the peak per process kind (api, worker). */
const sampleConnections = (observer: Observer) => {
  const peaks: Record<string, { open: number; active: number }> = {}
  const timer = setInterval(() => {
    observer
      .connections()
      .then((rows) => {
        for (const row of rows) {
          const kind = row.name.replace(/^tgz-/, '').replace(/-\d+$/, '')
          const peak = (peaks[kind] ??= { open: 0, active: 0 })
          peak.open = Math.max(peak.open, row.open)
          peak.active = Math.max(peak.active, row.active)
        }
      })
      .catch(() => undefined)
  }, 1_000)
  return { stop: () => clearInterval(timer), peaks: () => peaks }
}

/** Runs the whole campaign and reports; every process it started is stopped before it returns. */
export const runCampaign = async (options: CampaignOptions): Promise<CampaignReport> => {
  const logDir = join(options.dir, 'process-logs')
  mkdirSync(logDir, { recursive: true })
  const env = processEnv(options)
  const started = Date.now()
  const apis: ServerProcess[] = []
  const workers: ServerProcess[] = []
  const observer = createObserver(options.databaseUrl)
  try {
    const ports = await Promise.all(Array.from({ length: options.apis }, freePort))
    const spawnWorker = async (i: number) =>
      startWorker(
        `worker-${i}`,
        await freePort(),
        options.workerConcurrency,
        named(env, `worker-${i}`),
        logDir,
      )
    // The first process migrates the fresh database; the others start together after it.
    apis.push(await startApi('api-0', ports[0]!, named(env, 'api-0'), logDir))
    const rest = await Promise.allSettled([
      ...ports.slice(1).map((port, i) => startApi(`api-${i + 1}`, port, named(env, `api-${i + 1}`), logDir)),
      ...Array.from({ length: options.workers }, (_, i) => spawnWorker(i)),
    ])
    for (const [i, result] of rest.entries()) {
      if (result.status === 'rejected') throw result.reason
      ;(i < ports.length - 1 ? apis : workers).push(result.value)
    }
    options.log(`started ${apis.length} API and ${workers.length} worker processes`)
    const call = apiClient(
      ports.map((port) => `http://127.0.0.1:${port}`),
      TOKEN,
    )
    const runIds = await createRuns(options, call)
    const sampler = sampleConnections(observer)
    const faults: Fault[] = []
    const progress: Progress = { waiting: runIds.length, active: 0 }
    // The tail is spared: with few jobs left, every kill would hit the same job again and again.
    const worthKilling = () =>
      progress.waiting > 0 || progress.active >= Math.max(2, options.parallelRuns / 2)
    const killer = startKiller(options, { workers, spawnWorker, worthKilling }, observer, faults)
    try {
      await drive(options, { runIds, call }, observer, faults, progress)
    } finally {
      await killer.stop()
      sampler.stop()
    }
    await settle(options, observer)
    const processesDied = [...apis, ...workers]
      .filter((proc) => proc.child.exitCode !== null || proc.child.signalCode !== null)
      .map((proc) => `${proc.name} (pid ${proc.pid}, exit ${proc.child.exitCode ?? proc.child.signalCode})`)
    const figures = await collectFigures(options.databaseUrl, runIds)
    const completed = figures.runsByStatus.completed ?? 0
    return {
      ...figures,
      runs: options.runs,
      runsCompleted: completed,
      runsLost: options.runs - completed,
      durationMs: Date.now() - started,
      faults: await measureFaults(faults, observer),
      processesDied,
      connectionsPeak: sampler.peaks(),
    }
  } finally {
    await observer.close()
    await Promise.all([...workers, ...apis].map((proc) => stopProcess(proc)))
  }
}

/** One project (its own sample repository) and one protocol per run, created before any fault. */
const createRuns = async (options: CampaignOptions, call: (i: number) => Call): Promise<number[]> => {
  const ids: number[] = []
  for (let i = 0; i < options.runs; i++) {
    const repo = createSampleRepo(join(options.dir, 'repos', `r${i}`))
    const project = (await call(i)('POST', '/projects', {
      name: `chaos-${i}`,
      git_url: repo,
      local_path: repo,
      default_models: { engine: 'command' },
    })) as { id: number }
    const run = (await call(i)('POST', `/projects/${project.id}/protocols`, {
      protocol_name: `0001-chaos-${i}`,
      description: 'Add a short usage section to the README',
    })) as { id: number }
    ids.push(run.id)
  }
  options.log(`created ${ids.length} projects and protocol runs`)
  return ids
}

/** Plays the users: starts runs into the window, asks each for its next step when idle, injects the restarts. */
const drive = async (
  options: CampaignOptions,
  { runIds, call }: { runIds: readonly number[]; call: (i: number) => Call },
  observer: Observer,
  faults: Fault[],
  progress: Progress,
): Promise<void> => {
  const deadline = Date.now() + options.deadlineMs
  const waiting = [...runIds]
  const active = new Set<number>()
  const pending = new Set<number>()
  const restarts = plannedRestarts(options, observer, faults)
  let ended = 0
  while ((waiting.length > 0 || active.size > 0) && Date.now() < deadline) {
    while (active.size < options.parallelRuns && waiting.length > 0) {
      const id = waiting.shift()!
      active.add(id)
      act(pending, id, () => call(id)('POST', `/protocols/${id}/actions/start`, {}), deadline)
    }
    const states = await observer.runStates([...active]).catch(() => undefined)
    for (const state of states?.values() ?? []) {
      if (!ACTIVE.has(state.status)) {
        active.delete(state.id)
        ended++
        continue
      }
      if (wantsNextStep(state))
        act(
          pending,
          state.id,
          () => call(ended)('POST', `/protocols/${state.id}/actions/run_next_step`, {}),
          deadline,
        )
    }
    Object.assign(progress, { waiting: waiting.length, active: active.size })
    await restarts.check(ended / runIds.length)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  options.log(`driver done: ${ended} runs ended, ${active.size + waiting.length} still open`)
}

const wantsNextStep = (state: RunState): boolean =>
  (state.status === 'planned' || state.status === 'running') &&
  !state.steps.some((s) => IN_FLIGHT.has(s)) &&
  state.steps.includes('pending')

/** One request per run at a time; a 409 (already moving) is an answer, a 5xx or a dropped connection is retried. */
const act = (pending: Set<number>, id: number, request: () => Promise<unknown>, deadline: number): void => {
  if (pending.has(id)) return
  pending.add(id)
  persist(deadline, request)
    .catch((error: unknown) => {
      if (!(error instanceof ApiRefusal)) throw error
    })
    .catch(() => undefined)
    .finally(() => pending.delete(id))
}

const plannedRestarts = (options: CampaignOptions, observer: Observer, faults: Fault[]) => {
  const plan: Array<{ kind: 'redis-restart' | 'postgres-restart'; at: number; backend: Backend }> = []
  if (options.restartRedisAt !== undefined)
    plan.push({ kind: 'redis-restart', at: options.restartRedisAt, backend: options.redis })
  if (options.restartPostgresAt !== undefined)
    plan.push({ kind: 'postgres-restart', at: options.restartPostgresAt, backend: options.postgres })
  return {
    check: async (progress: number) => {
      const due = plan.filter((step) => progress >= step.at)
      for (const step of due) {
        plan.splice(plan.indexOf(step), 1)
        options.log(
          `${step.kind}: down for ${options.outageMs} ms at ${Math.round(progress * 100)} % of runs ended`,
        )
        const jobs = await observer.jobsInFlight().catch(() => [])
        const { downAt, upAt } = await step.backend.restart(options.outageMs)
        faults.push({ kind: step.kind, at: downAt, upAt, jobs })
      }
    },
  }
}

/** SIGKILLs a random worker every `killEveryMs` and starts a replacement a second later. */
const startKiller = (
  options: CampaignOptions,
  {
    workers,
    spawnWorker,
    worthKilling,
  }: {
    workers: ServerProcess[]
    spawnWorker: (i: number) => Promise<ServerProcess>
    worthKilling: () => boolean
  },
  observer: Observer,
  faults: Fault[],
) => {
  let stopped = options.killEveryMs === undefined
  let busy: Promise<void> = Promise.resolve()
  const killOne = async () => {
    const held = await Promise.all(workers.map((w) => observer.jobsHeldBy(w.pid).catch(() => [])))
    const busyOnes = workers.map((_, i) => i).filter((i) => held[i]!.length > 0)
    const pool = options.killBusy && busyOnes.length > 0 ? busyOnes : workers.map((_, i) => i)
    const index = pool[Math.floor(Math.random() * pool.length)]!
    const victim = workers[index]!
    const at = Date.now()
    victim.child.kill('SIGKILL')
    await victim.exited
    faults.push({ kind: 'worker-kill', at, upAt: at, jobs: held[index]! })
    options.log(`killed ${victim.name} (pid ${victim.pid}) holding ${held[index]!.length} job(s)`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    workers[index] = await persist(Date.now() + 60_000, () => spawnWorker(index))
  }
  let kills = 0
  let killing = false
  // One kill at a time, none queued: replacing a worker can take longer than the interval.
  const timer = setInterval(() => {
    if (stopped || killing || !worthKilling() || kills >= (options.maxKills ?? Infinity)) return
    kills++
    killing = true
    busy = killOne()
      .catch((error: unknown) => options.log(`kill failed: ${String(error)}`))
      .finally(() => (killing = false))
  }, options.killEveryMs ?? 1_000_000)
  return {
    stop: async () => {
      stopped = true
      clearInterval(timer)
      await busy
    },
  }
}

/** Waits (up to the reconciler window) until no step is in flight and no job is open. */
const settle = async (options: CampaignOptions, observer: Observer): Promise<void> => {
  const deadline = Date.now() + options.settleMs
  while (Date.now() < deadline) {
    const open = await observer.jobsInFlight().catch(() => ['?'])
    if (open.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}
