import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Announced } from '../../src/app/ports.js'
import { openRuntime, type Runtime } from '../../src/composition/index.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedRun } from '../support/fixtures.js'
import { dbEnv, waitFor } from '../support/queue-harness.js'

const REDIS_URL = process.env.TASKSGODZILLA_TEST_REDIS_URL

// A commit is announced after it is done: to the process's commit subscribers (the live signal,
// the queue), and by the signal to every live stream. A listener that threw used to reach the
// caller of the committed write (an API request answered 500 for a write that was saved), stop
// the listeners after it (the queue not woken), or, inside the Redis client's message handler,
// end the process.
const SETUPS = [
  { name: 'SQLite, in-process signal', dialect: 'sqlite', redis: false },
  { name: 'Postgres, LISTEN/NOTIFY signal', dialect: 'postgres', redis: false },
  { name: 'SQLite, Redis signal', dialect: 'sqlite', redis: true },
] as const

describe.each(SETUPS)('a commit listener that throws ($name)', ({ dialect, redis }) => {
  const skipped = unavailable(dialect) || (redis && !REDIS_URL)
  let database: TestDatabase
  let runtime: Runtime
  const logLines: string[] = []

  beforeAll(async () => {
    if (skipped) return
    database = await createTestDatabase(dialect)
    const env = {
      ...dbEnv(database.target),
      ...(redis ? { TASKSGODZILLA_REDIS_URL: REDIS_URL! } : {}),
      TASKSGODZILLA_LOG_JSON: 'true',
    }
    const config = loadConfig(env, process.cwd())
    const captured = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        logLines.push(chunk.toString())
        done()
      },
    })
    runtime = await openRuntime(config, createLogger(config, captured))
  })
  afterAll(async () => {
    await runtime?.close()
    await database?.drop()
  })

  it.skipIf(skipped)('leaves the write committed and answered, and the other listeners told', async () => {
    const heard: Announced[] = []
    const committedJobs: number[] = []
    const stopBroken = runtime.bus.subscribe({
      onCommit: () => {
        throw new Error('a broken commit subscriber')
      },
    })
    const stopCounting = runtime.bus.subscribe({
      onCommit: (committed) => committedJobs.push(committed.events.length),
    })
    const stopBrokenStream = runtime.signal.subscribe(() => {
      throw new Error('a broken live stream')
    })
    const stopStream = runtime.signal.subscribe((announced) => heard.push(announced))
    try {
      const event = await runtime.deps.uow.run(async (repos) => {
        const project = await seedProject(repos)
        const run = await seedRun(repos, project.id)
        return repos.events.append({
          projectId: project.id,
          protocolRunId: run.id,
          eventType: 'probe',
          message: 'x',
        })
      })

      expect(
        await runtime.deps.repos.events.list({ protocolRunId: event.protocolRunId ?? -1, limit: 10 }),
      ).toEqual([expect.objectContaining({ id: event.id })])
      expect(committedJobs).toEqual([1])
      await waitFor(
        async () => heard.some((announced) => announced?.some((news) => news.id === event.id)),
        10_000,
        'the working stream to hear the event',
      )
      await waitFor(
        async () => logLines.some((line) => line.includes('a live listener failed')),
        10_000,
        "the broken stream's failure to be logged",
      )
      expect(logLines.some((line) => line.includes('a commit listener failed'))).toBe(true)
    } finally {
      stopBroken()
      stopCounting()
      stopBrokenStream()
      stopStream()
    }
  })
})
