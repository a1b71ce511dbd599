import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../src/composition/index.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { removeDir, tempDir } from '../support/git-repos.js'
import { seedProject, seedRun } from '../support/fixtures.js'
import { waitFor } from '../support/queue-harness.js'

// Cancelling a run tells the queue to abort its jobs. With the Redis backend that was a publish
// on a connection that queues commands while Redis is unreachable, so during an outage the cancel
// request, whose cancellation had already committed, waited until Redis came back.

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })

/** A Redis server of this test's own, which it can stop and start again. */
const privateRedis = (port: number) => {
  let child: ChildProcess | undefined
  const answers = async (): Promise<boolean> => {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    probe.on('error', () => undefined)
    try {
      await probe.connect()
      return (await probe.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      probe.disconnect()
    }
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    /** Starts the server unless it runs. */
    async start() {
      if (child) return
      const started = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      )
      child = started
      // Gone with this test's process even if a hook is abandoned at its timeout.
      const killOnExit = () => started.kill('SIGKILL')
      process.once('exit', killOnExit)
      started.once('exit', () => {
        process.off('exit', killOnExit)
        if (child === started) child = undefined
      })
      // Only this child's answer counts: one that exited (its port taken meanwhile) fails at once.
      await waitFor(
        async () => {
          if (child !== started) throw new Error(`redis-server exited at start (port ${port} taken?)`)
          return answers()
        },
        10_000,
        'the private Redis to answer',
      )
    },
    /** Kills the server if it runs, and waits for it to be gone. */
    async stop() {
      const running = child
      if (!running) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGKILL')
      await exited
    },
  }
}

describe.skipIf(!hasRedisServer)('cancelling a run while Redis is down', () => {
  let redis: ReturnType<typeof privateRedis>
  let running: RunningServer
  let dir: string
  const logLines: string[] = []

  beforeAll(async () => {
    redis = privateRedis(await freePort())
    await redis.start()
    dir = tempDir('tgz-cancel-outage-')
    const config = loadConfig(
      {
        TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'),
        TASKSGODZILLA_REDIS_URL: redis.url,
        TASKSGODZILLA_LOG_JSON: 'true',
      },
      dir,
    )
    const captured = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        logLines.push(chunk.toString())
        done()
      },
    })
    running = await startServer(config, createLogger(config, captured), { host: '127.0.0.1', port: 0 })
  })
  afterAll(async () => {
    // Redis back first, so that the server's own connections can close; then gone for good.
    try {
      if (running) {
        await redis.start().catch(() => undefined)
        await running.stop()
      }
    } finally {
      await redis?.stop()
      if (dir) removeDir(dir)
    }
  })

  const runningRun = () =>
    running.runtime.deps.uow.run(async (tx) => seedRun(tx, (await seedProject(tx)).id, 'running'))

  const cancel = (runId: number) =>
    fetch(`${running.address}/protocols/${runId}/actions/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    })

  const abortFailures = () =>
    logLines.filter((line) => line.includes("a run's abort did not reach its queue"))

  it('answers with the run cancelled, and logs that the abort did not reach the queue', async () => {
    const { repos } = running.runtime.deps
    const cancelledWhileDown = async () => {
      const run = await runningRun()
      const response = await cancel(run.id)
      expect(response.status).toBe(200)
      expect(((await response.json()) as { status: string }).status).toBe('cancelled')
      expect((await repos.runs.findById(run.id))?.status).toBe('cancelled')
    }
    // Down before any abort: the connection the abort goes out on cannot be opened.
    await redis.stop()
    await cancelledWhileDown()
    await waitFor(async () => abortFailures().length === 1, 5_000, 'the failed abort to be logged')
    // Up again: the next abort opens it and goes out.
    await redis.start()
    expect((await cancel((await runningRun()).id)).status).toBe(200)
    expect(abortFailures()).toHaveLength(1)
    // Down with the connection open: the abort fails on it at once.
    await redis.stop()
    await cancelledWhileDown()
    await waitFor(async () => abortFailures().length === 2, 5_000, 'the second failed abort to be logged')
  })
})
