// What bench/mixed.bench.ts runs as its background writers: events committed at a steady rate
// across a set of runs, from a process of its own opened as a worker's is (`openRuntime`), so each
// commit is announced on the live signal other processes listen to (Postgres LISTEN, or Redis when
// TASKSGODZILLA_REDIS_URL is set; on SQLite without Redis no other process hears it).
import { openRuntime } from '../src/composition/runtime.js'
import { loadConfig } from '../src/config.js'
import { createLogger } from '../src/logging.js'

const perSecond = Number(process.env.BENCH_WRITES_PER_SECOND ?? 200)
const runs = Number(process.env.BENCH_WRITE_RUNS ?? 20)
const runsPerProject = Number(process.env.BENCH_RUNS_PER_PROJECT ?? 10)
/** Commits in flight at most: enough to keep the rate when one commit waits on another's lock. */
const IN_FLIGHT = 4

const config = loadConfig(process.env, process.cwd())
const runtime = await openRuntime(config, createLogger(config))
const { uow } = runtime.deps
const started = Date.now()
let committed = 0
let sent = 0
let inFlight = 0

/** One event, one transaction: each agent output is a commit of its own. */
const writeOne = async (): Promise<void> => {
  const n = sent++
  const runId = (n % runs) + 1
  const projectId = Math.floor((runId - 1) / runsPerProject) + 1
  inFlight++
  try {
    await uow.run((repos) =>
      repos.events.append({
        projectId,
        protocolRunId: runId,
        eventType: 'agent_output',
        message: `line ${n}`,
      }),
    )
    committed++
  } finally {
    inFlight--
  }
}

const pace = setInterval(() => {
  const due = Math.floor(((Date.now() - started) / 1000) * perSecond)
  while (sent < due && inFlight < IN_FLIGHT) void writeOne().catch((error) => console.error(error))
}, 5)
const report = setInterval(() => process.stdout.write(`${Date.now()} ${committed}\n`), 250)

process.on('SIGTERM', () => {
  clearInterval(pace)
  clearInterval(report)
  void runtime.close().then(() => process.exit(0))
})
