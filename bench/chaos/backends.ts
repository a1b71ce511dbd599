import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, readdirSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'

/** A backend the campaign can take down and bring back (a private instance, never the shared one). */
export interface Backend {
  readonly url: string
  /** Crashes it (no clean shutdown), keeps it down for `downMs`, starts it again; returns when it answers. */
  restart(downMs: number): Promise<{ readonly downAt: number; readonly upAt: number }>
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once something accepts TCP connections on the port (rejects after `timeoutMs`). */
export const waitForPort = async (port: number, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`)
    await sleep(100)
  }
}

/** A private redis-server without persistence: a restart loses every key, as a crashed cache would. */
export const startPrivateRedis = async (port: number, dir: string): Promise<Backend> => {
  mkdirSync(dir, { recursive: true })
  const launch = (): ChildProcess =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    )
  let child = launch()
  await waitForPort(port)
  const kill = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    restart: async (downMs) => {
      const downAt = Date.now()
      await kill()
      await sleep(downMs)
      child = launch()
      await waitForPort(port)
      return { downAt, upAt: Date.now() }
    },
    stop: kill,
  }
}

const postgresBin = (): string => {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no Postgres under /usr/lib/postgresql')
  return `/usr/lib/postgresql/${versions[0]}/bin`
}

/**
 * A private Postgres cluster in `dir` on `port` (initdb refuses root, so as `nobody` when root).
 * fsync is off: the campaign tests our recovery, not the disk's.
 */
export const startPrivatePostgres = async (port: number, dir: string): Promise<Backend> => {
  const bin = postgresBin()
  mkdirSync(dir, { recursive: true })
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const asOwner = (command: string, args: string[]) => {
    const root = process.getuid?.() === 0
    execFileSync(root ? 'runuser' : command, root ? ['-u', 'nobody', '--', command, ...args] : args, {
      stdio: 'ignore',
    })
  }
  asOwner(`${bin}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off`
  const start = () =>
    asOwner(`${bin}/pg_ctl`, ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'])
  // Immediate: the server dies without a checkpoint, as on a crash; start-up replays the WAL.
  const crash = () => asOwner(`${bin}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', 'stop'])
  start()
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    restart: async (downMs) => {
      const downAt = Date.now()
      crash()
      await sleep(downMs)
      start()
      return { downAt, upAt: Date.now() }
    },
    stop: async () => crash(),
  }
}

/** A backend someone else runs (the shared test servers): never restarted. */
export const externalBackend = (url: string): Backend => ({
  url,
  restart: () => Promise.reject(new Error(`refusing to restart the shared server at ${url}`)),
  stop: async () => undefined,
})
