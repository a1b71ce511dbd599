import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { makeWatchEvents, type EventWatch, type WatchFilter } from '../../src/app/events/watch-events.js'
import { NO_ORIGIN, type ChangeOrigin } from '../../src/app/context.js'
import { hashToken } from '../../src/app/secrets.js'
import type { Announced, EventRepository } from '../../src/app/ports.js'
import { batchedPerTurn, readScopeKey } from '../../src/app/reads-per-turn.js'
import { openRuntime, type Runtime } from '../../src/composition/index.js'
import { loadConfig } from '../../src/config.js'
import type { ProtocolRun } from '../../src/domain/protocol-run.js'
import { createLogger } from '../../src/logging.js'
import { silentStream } from '../support/api.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../support/databases.js'
import { seedProject, seedRun, unique } from '../support/fixtures.js'
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

  /** Watches as a server makes them (they share their reads); `list` replaces the events listing. */
  const watchesWith = (list?: EventRepository['list']) =>
    makeWatchEvents({
      repos: list
        ? { ...runtime.deps.repos, events: { ...runtime.deps.repos.events, list } }
        : runtime.deps.repos,
      signal: runtime.signal,
      scopeVersion: batchedPerTurn(runtime.database.scopeVersions, readScopeKey),
    })

  let watches: ReturnType<typeof makeWatchEvents> | undefined
  /** A stream's watch; all of a test file's share their reads, as a server's do. */
  const watch = (filter: WatchFilter, ctx: ChangeOrigin = NO_ORIGIN): Promise<EventWatch> => {
    watches ??= watchesWith()
    return watches(filter, ctx)
  }

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

  /**
   * A unit of work held open: `append` writes an event inside it, `commit` ends it (its commit is
   * then announced like any other), so two of them can interleave as concurrent workers would.
   */
  const openTransaction = () => {
    type Step = { readonly run: ProtocolRun; readonly appended: (id: number) => void } | 'commit'
    const steps: Step[] = []
    let wake = (): void => undefined
    const finished = runtime.deps.uow.run(async (repos) => {
      for (;;) {
        const step = steps.shift()
        if (step === 'commit') return
        if (step === undefined) await new Promise<void>((resolve) => (wake = resolve))
        else {
          const { run, appended } = step
          const event = await repos.events.append({
            projectId: run.projectId,
            protocolRunId: run.id,
            eventType: 'agent_output',
            message: 'held',
          })
          appended(event.id)
        }
      }
    })
    const push = (step: Step) => {
      steps.push(step)
      wake()
    }
    return {
      append: (run: ProtocolRun) => new Promise<number>((appended) => push({ run, appended })),
      commit: async () => {
        push('commit')
        await finished
      },
    }
  }

  it.skipIf(skipped)(
    "names each committed event, and a stream reads on its own run's commits only",
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      const cursor = await stream.latestId()

      const elsewhere = await commitEvent(other)
      expect(elsewhere.announced).toEqual([
        { id: elsewhere.id, projectId: other.projectId, protocolRunId: other.id, eventType: 'agent_output' },
      ])
      expect(stream.wakes(elsewhere.announced)).toBe(false)

      const own = await commitEvent(watched)
      expect(stream.wakes(own.announced)).toBe(true)
      const read = await stream.after(cursor, 10)
      expect(read.map((event) => event.id)).toEqual([own.id])

      expect(stream.wakes((await commitEvent(other)).announced)).toBe(false)
      // An announcement that names nothing (an older process, a signal back after an outage) may concern anyone.
      expect(stream.wakes(undefined)).toBe(true)
    },
  )

  it.skipIf(skipped)("a stream filtered by type skips its run's events of other types", async () => {
    const stream = await watch({ protocolRunId: watched.id, eventType: 'step_completed' })
    expect(stream.wakes((await commitEvent(watched, 'agent_output')).announced)).toBe(false)
    expect(stream.wakes((await commitEvent(watched, 'step_completed')).announced)).toBe(true)
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
      const [before, allBefore] = [await settled(stream.pollVersion), await everything.pollVersion()]

      await commitEvent(other)
      await vi.waitFor(async () => expect(await stream.pollVersion()).toBe(before), {
        timeout: 5_000,
        interval: 20,
      })
      expect(await everything.pollVersion()).not.toBe(allBefore)

      await commitEvent(watched)
      const after = await settled(stream.pollVersion)
      expect(after).not.toBe(before)
    },
  )

  it.skipIf(skipped)('streams at the same position share one read of their page', async () => {
    const lists: number[] = []
    const { events } = runtime.deps.repos
    const counted = watchesWith((filter) => (lists.push(1), events.list(filter)))
    const streams = await Promise.all([1, 2, 3].map(() => counted({ protocolRunId: watched.id }, NO_ORIGIN)))
    const lagging = await counted({ protocolRunId: watched.id }, NO_ORIGIN)
    const cursor = await streams[0]!.latestId()
    const first = await commitEvent(watched)
    const second = await commitEvent(watched)
    lists.length = 0

    const pages = await Promise.all([
      ...streams.map((stream) => stream.after(first.id, 10)),
      lagging.after(cursor, 10),
    ])
    expect(pages.map((page) => page.map((event) => event.id))).toEqual([
      [second.id],
      [second.id],
      [second.id],
      [first.id, second.id],
    ])
    expect(lists).toHaveLength(2)
  })

  it.skipIf(skipped)('never shares a page between streams that may read different projects', async () => {
    const token = `tok-${unique()}`
    const guarded = await runtime.deps.uow.run(async (repos) => {
      const project = await seedProject(repos, { apiTokenHash: hashToken(token) })
      return seedRun(repos, project.id)
    })
    const [holder, stranger] = await Promise.all([watch({}, { projectToken: token }), watch({})])
    const cursor = await holder.latestId()
    const secret = await commitEvent(guarded)
    const open = await commitEvent(watched)

    const [held, seen] = await Promise.all([holder.after(cursor, 10), stranger.after(cursor, 10)])
    expect(held.map((event) => event.id)).toEqual([secret.id, open.id])
    expect(seen.map((event) => event.id)).toEqual([open.id])
  })

  it.skipIf(skipped)('drops what a read returned of a project given a token while the read ran', async () => {
    const [project, run] = await runtime.deps.uow.run(async (repos) => {
      const created = await seedProject(repos)
      return [created, await seedRun(repos, created.id)] as const
    })
    const { events } = runtime.deps.repos
    let guardDuringRead: (() => Promise<unknown>) | undefined
    const stream = await watchesWith(async (filter) => {
      const page = await events.list(filter)
      const guard = guardDuringRead
      guardDuringRead = undefined
      await guard?.()
      return page
    })({}, NO_ORIGIN)
    const cursor = await stream.latestId()
    const before = await commitEvent(run)
    guardDuringRead = () =>
      runtime.deps.uow.run((repos) =>
        repos.projects.update(project.id, { apiTokenHash: hashToken(`tok-${unique()}`) }),
      )

    const page = await stream.after(cursor, 100)
    expect(page.map((event) => event.id)).not.toContain(before.id)
  })

  it.skipIf(skipped || dialect !== 'postgres')(
    "keeps reading on other runs' wake-ups while an event named for it is held back by an older transaction",
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      const cursor = await stream.latestId()
      const older = openTransaction()
      const olderId = await older.append(other)

      const own = await commitEvent(watched)
      expect(own.id).toBeGreaterThan(olderId)
      expect(stream.wakes(own.announced)).toBe(true)
      // Listed only once the older transaction, which could still commit a smaller id, has ended.
      expect(await stream.after(cursor, 10)).toEqual([])

      await older.commit()
      const olderAnnounced = await announcementOf(olderId)
      expect(olderAnnounced?.map((event) => event.protocolRunId)).toEqual([other.id])
      expect(stream.wakes(olderAnnounced)).toBe(true)
      expect((await stream.after(cursor, 10)).map((event) => event.id)).toEqual([own.id])
      expect(stream.wakes((await commitEvent(other)).announced)).toBe(false)
    },
  )

  it.skipIf(skipped || dialect !== 'postgres')(
    'reads on the announcement of an event listed after one with a larger id',
    async () => {
      const stream = await watch({ protocolRunId: watched.id })
      const cursor = await stream.latestId()
      const first = openTransaction()
      await first.append(other) // takes its transaction id before the second begins
      const second = openTransaction()
      const smaller = await second.append(watched)
      const larger = await first.append(watched)
      expect(larger).toBeGreaterThan(smaller)
      await first.commit()
      await announcementOf(larger)

      // The first transaction is older than the second, still running, so its event is final.
      const firstRead = await stream.after(cursor, 10)
      expect(firstRead.map((event) => event.id)).toEqual([larger])
      await second.commit()
      expect(stream.wakes(await announcementOf(smaller))).toBe(true)
      expect((await stream.after(larger, 10)).map((event) => event.id)).toEqual([smaller])
    },
  )
})
