import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { makeWatchEvents, type EventWatch, type WatchFilter } from '../../src/app/events/watch-events.js'
import { NO_ORIGIN } from '../../src/app/context.js'
import type { Announced } from '../../src/app/ports.js'
import { batchedPerTurn, readScopeKey } from '../../src/app/reads-per-turn.js'
import { openRuntime, type Runtime } from '../../src/composition/index.js'
import { loadConfig } from '../../src/config.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import { createLogger } from '../../src/logging.js'
import { silentStream } from '../support/api.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedRun } from '../support/fixtures.js'
import { dbEnv } from '../support/queue-harness.js'

const REDIS_URL = process.env.TASKSGODZILLA_TEST_REDIS_URL

/** Each live signal a process can have, on the database it goes with. */
const SETUPS = [
  { name: 'SQLite, in-process signal', dialect: 'sqlite', redis: false },
  { name: 'Postgres, LISTEN/NOTIFY signal', dialect: 'postgres', redis: false },
  { name: 'SQLite, Redis signal', dialect: 'sqlite', redis: true },
] as const

describe.each(SETUPS)('live stream wake-ups ($name)', ({ dialect, redis }) => {
  const skipped = unavailable(dialect) || (redis && !REDIS_URL)
  let database: TestDatabase
  let runtime: Runtime
  let watched: ProtocolRun
  let other: ProtocolRun
  const heard: Announced[] = []

  beforeAll(async () => {
    if (skipped) return
    database = await createTestDatabase(dialect)
    const env = { ...dbEnv(database.target), ...(redis ? { TASKSGODZILLA_REDIS_URL: REDIS_URL! } : {}) }
    const config = loadConfig(env, process.cwd())
    runtime = await openRuntime(config, createLogger(config, silentStream()))
    runtime.signal.subscribe((announced) => heard.push(announced))
    ;[watched, other] = await runtime.deps.uow.run(async (repos) => {
      const project = await seedProject(repos)
      return [await seedRun(repos, project.id), await seedRun(repos, project.id)]
    })
  })
  afterAll(async () => {
    await runtime?.close()
    await database?.drop()
  })

  const watch = (filter: WatchFilter): Promise<EventWatch> =>
    makeWatchEvents({
      repos: runtime.deps.repos,
      signal: runtime.signal,
      scopeVersion: batchedPerTurn(runtime.database.scopeVersions, readScopeKey),
    })(filter, NO_ORIGIN)

  /** Appends one event of `run` in a transaction of its own; resolves with its id once it is announced here. */
  const commitEvent = async (
    run: ProtocolRun,
    eventType = 'agent_output',
  ): Promise<{ id: number; announced: Announced }> => {
    const { id } = await runtime.deps.uow.run((repos) =>
      repos.events.append({ projectId: run.projectId, protocolRunId: run.id, eventType, message: 'line' }),
    )
    return { id, announced: await announcementOf(id) }
  }

  const announcementOf = (id: number): Promise<Announced> =>
    vi.waitFor(
      () => {
        const found = heard.find((announced) => announced?.some((event) => event.id === id))
        expect(found).toBeDefined()
        return found
      },
      { timeout: 5_000, interval: 10 },
    )

  it.skipIf(skipped)(
    "names each committed event, and a stream reads on its own run's commits only",
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      let cursor = await stream.latestId()

      const elsewhere = await commitEvent(other)
      expect(elsewhere.announced).toEqual([
        { id: elsewhere.id, projectId: other.projectId, protocolRunId: other.id, eventType: 'agent_output' },
      ])
      expect(stream.wakes(elsewhere.announced, cursor)).toBe(false)

      const own = await commitEvent(watched)
      expect(stream.wakes(own.announced, cursor)).toBe(true)
      const read = await stream.after(cursor, 10)
      expect(read.map((event) => event.id)).toEqual([own.id])
      cursor = own.id

      expect(stream.wakes((await commitEvent(other)).announced, cursor)).toBe(false)
      // An announcement that names nothing (an older process, a signal back after an outage) may concern anyone.
      expect(stream.wakes(undefined, cursor)).toBe(true)
    },
  )

  it.skipIf(skipped)("a stream filtered by type skips its run's events of other types", async () => {
    const stream = await watch({ protocolRunId: watched.id, eventType: 'step_completed' })
    const cursor = await stream.latestId()
    expect(stream.wakes((await commitEvent(watched, 'agent_output')).announced, cursor)).toBe(false)
    expect(stream.wakes((await commitEvent(watched, 'step_completed')).announced, cursor)).toBe(true)
  })

  it.skipIf(skipped)(
    "a stream of one run finds its poll's version moved by its run's commits only",
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      const everything = await watch({})
      // A Postgres token is withheld while a transaction that could still touch the run is running.
      const settled = (read: () => Promise<string | undefined>) =>
        vi.waitFor(async () => (await read()) ?? expect.fail('no token yet'), {
          timeout: 5_000,
          interval: 20,
        })
      const [before, allBefore] = [await settled(stream.dataVersion), await everything.dataVersion()]

      await commitEvent(other)
      await vi.waitFor(async () => expect(await stream.dataVersion()).toBe(before), {
        timeout: 5_000,
        interval: 20,
      })
      expect(await everything.dataVersion()).not.toBe(allBefore)

      await commitEvent(watched)
      expect(await stream.dataVersion()).not.toBe(before)
    },
  )

  it.skipIf(skipped || dialect !== 'postgres')(
    "keeps reading on other runs' wake-ups while an event named for it is held back by an older transaction",
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      let cursor = await stream.latestId()
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      let olderId!: number
      const tookId = new Promise<void>((resolve) => {
        void runtime.deps.uow.run(async (repos) => {
          olderId = (
            await repos.events.append({
              projectId: other.projectId,
              protocolRunId: other.id,
              eventType: 'agent_output',
              message: 'older',
            })
          ).id
          resolve()
          await released
        })
      })
      await tookId

      const own = await commitEvent(watched)
      expect(own.id).toBeGreaterThan(olderId)
      expect(stream.wakes(own.announced, cursor)).toBe(true)
      // Listed only once the older transaction, which could still commit a smaller id, has ended.
      expect(await stream.after(cursor, 10)).toEqual([])

      release()
      const older = await announcementOf(olderId)
      expect(older?.map((event) => event.protocolRunId)).toEqual([other.id])
      expect(stream.wakes(older, cursor)).toBe(true)
      expect((await stream.after(cursor, 10)).map((event) => event.id)).toEqual([own.id])
      cursor = own.id
      expect(stream.wakes((await commitEvent(other)).announced, cursor)).toBe(false)
    },
  )
})
