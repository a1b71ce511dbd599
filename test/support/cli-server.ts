import { createServer } from 'node:net'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { silentStream } from './api.js'
import { createTestDatabase, type TestDatabase } from './databases.js'

export interface CliServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** The environment a CLI process needs to reach this server. */
  readonly env: Record<string, string>
  /** Calls the API directly (setting up data the CLI then reads). */
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>
  /**
   * Resolves once the server has answered `method path` (a route template, `/events`) more often
   * than `after` times: how a test knows a CLI it started has reached the server, however long
   * the CLI took to start.
   */
  answered(method: string, path: string, after: number): Promise<void>
  /** How often the server has answered `method path` so far (read from its own /metrics). */
  answers(method: string, path: string): Promise<number>
  /** Cuts every open connection (SSE streams included) while the server keeps listening. */
  dropConnections(): void
  /** Stops the server (ending its streams) and starts it again on the same port and database. */
  restart(): Promise<void>
  close(): Promise<void>
}

/** A real listening API on a fresh SQLite file (the embedded default), on a free port. */
export const startCliServer = async (env: Record<string, string> = {}): Promise<CliServer> => {
  const database: TestDatabase = await createTestDatabase('sqlite')
  const path = database.target.dialect === 'sqlite' ? database.target.path : ''
  const config = loadConfig(
    { TASKSGODZILLA_DB_PATH: path, TASKSGODZILLA_LOG_JSON: '1', ...env },
    process.cwd(),
  )
  const listen = (port: number): Promise<RunningServer> =>
    startServer(config, createLogger(config, silentStream()), { host: '127.0.0.1', port })
  let running = await listen(0)
  const base = running.address
  return {
    base,
    env: { TASKSGODZILLA_API_BASE: base },
    api: async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(base + path, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as T
    },
    answers: (method, path) => answersOf(base, method, path),
    answered: async (method, path, after) => {
      const deadline = Date.now() + ANSWER_WAIT_MS
      while ((await answersOf(base, method, path)) <= after) {
        if (Date.now() > deadline)
          throw new Error(`${method} ${path} was not answered within ${ANSWER_WAIT_MS} ms`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    dropConnections: () => running.server.server.closeAllConnections(),
    restart: async () => {
      await running.stop()
      running = await listen(Number(new URL(base).port))
    },
    close: async () => {
      await running.stop()
      await database.drop()
    },
  }
}

const ANSWER_WAIT_MS = 30_000

/** 200 answers the server counted for a route, from `requests_duration_seconds_count`. */
const answersOf = async (base: string, method: string, path: string): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`)).text()
  const label = `path="${path}",method="${method}",status="200"`
  return text
    .split('\n')
    .filter((line) => line.startsWith('requests_duration_seconds_count{') && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

/** A port nothing listens on (bound, then released). */
export const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export const uniqueName = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 8)}`
