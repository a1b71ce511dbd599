import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Transaction } from 'kysely'
import { openDatabase, type DatabaseHandle } from '../../../src/adapters/storage/database.js'
import type { Database } from '../../../src/adapters/storage/schema.js'
import { createRepositories } from '../../../src/adapters/storage/unit-of-work.js'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { startServer, type RunningServer } from '../../../src/composition/index.js'
import { silentStream } from '../../support/api.js'
import { createTestDatabase, unavailable, type TestDatabase } from '../../support/databases.js'
import { openSse } from '../../support/sse-client.js'

interface Listed {
  readonly id: number
  readonly message: string
}

/**
 * A write transaction held open until `commit()`: its events are appended through the real
 * repository on a connection of its own, so two of them can interleave as concurrent requests
 * or workers would.
 */
const openWriter = (handle: DatabaseHandle, projectId: number) => {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  type Step = (repos: ReturnType<typeof createRepositories>, trx: Transaction<Database>) => Promise<unknown>
  const steps: Step[] = []
  let wake: (() => void) | undefined
  const ids: number[] = []
  const done = handle.db.transaction().execute(async (trx) => {
    const repos = createRepositories(trx)
    for (;;) {
      const step = steps.shift()
      if (step) {
        await step(repos, trx)
        continue
      }
      const next = new Promise<'step' | 'commit'>((resolve) => {
        wake = () => resolve('step')
        void released.then(() => resolve('commit'))
      })
      if ((await next) === 'commit' && steps.length === 0) return
    }
  })
  const run = <T>(
    step: (repos: ReturnType<typeof createRepositories>, trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      steps.push((repos, trx) => step(repos, trx).then(resolve, reject))
      wake?.()
    })
  return {
    /** Gives the transaction its id now, as any earlier write in it (a status change) would. */
    takeTransactionId: () =>
      run((_repos, trx) => sql`select pg_current_xact_id()`.execute(trx)).then(() => undefined),
    append: async (message: string) => {
      const event = await run((repos) => repos.events.append({ projectId, eventType: 'external', message }))
      ids.push(event.id)
      return event.id
    },
    commit: async () => {
      release()
      await done
    },
    ids,
  }
}

describe.skipIf(unavailable('postgres'))('resuming events on Postgres when ids commit out of order', () => {
  let database: TestDatabase
  let running: RunningServer
  let handle: DatabaseHandle
  let base: string
  let projectId: number

  const listAfter = async (afterId: number): Promise<Listed[]> => {
    const query = `project_id=${projectId}&event_type=external&after_id=${afterId}&limit=1000`
    const response = await fetch(`${base}/events?${query}`)
    expect(response.status).toBe(200)
    return (await response.json()) as Listed[]
  }

  const latestId = async (): Promise<number> =>
    ((await (await fetch(`${base}/events?project_id=${projectId}&limit=1`)).json()) as Listed[])[0]?.id ?? 0

  beforeAll(async () => {
    database = await createTestDatabase('postgres')
    const config = loadConfig(
      { TASKSGODZILLA_DB_URL: database.target.dialect === 'postgres' ? database.target.url : '' },
      process.cwd(),
    )
    running = await startServer(config, createLogger(config, silentStream()), {
      host: '127.0.0.1',
      port: 0,
      runJobs: false,
    })
    base = running.address
    handle = openDatabase(database.target)
    const created = await fetch(`${base}/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'resume-demo', git_url: '/srv/repos/resume' }),
    })
    projectId = ((await created.json()) as { id: number }).id
  })
  afterAll(async () => {
    await handle?.close()
    await running?.stop()
    await database?.drop()
  })

  it('holds back a committed event while a transaction that took a smaller id is still open', async () => {
    const start = await latestId()
    const first = openWriter(handle, projectId)
    const second = openWriter(handle, projectId)
    const smaller = await first.append('took-the-smaller-id')
    const larger = await second.append('committed-first')
    expect(larger).toBeGreaterThan(smaller)
    await second.commit()

    expect(await listAfter(start)).toEqual([])
    await first.commit()
    const listed = await listAfter(start)
    expect(listed.map((e) => e.message).sort()).toEqual(['committed-first', 'took-the-smaller-id'])
    expect(await listAfter(listed[0]!.id)).toEqual([])
  })

  it('after_id: a client resuming after the first listed id still gets the late commit, once', async () => {
    const start = await latestId()
    const older = openWriter(handle, projectId)
    const late = openWriter(handle, projectId)
    await older.takeTransactionId()
    await late.takeTransactionId()
    const lateId = await late.append('late-commit')
    const earlyId = await older.append('early-commit')
    expect(earlyId).toBeGreaterThan(lateId)
    await older.commit()

    const firstPage = await listAfter(start)
    expect(firstPage.map((e) => e.message)).toEqual(['early-commit'])
    await late.commit()
    const resumed = await listAfter(firstPage[0]!.id)
    expect(resumed.map((e) => [e.id, e.message])).toEqual([[lateId, 'late-commit']])
    expect(await listAfter(lateId)).toEqual([])
  })

  it('Last-Event-ID: the live stream and a resumed one both deliver the late commit exactly once', async () => {
    const live = await openSse(`${base}/events/stream?project_id=${projectId}&event_type=external`)
    const older = openWriter(handle, projectId)
    const late = openWriter(handle, projectId)
    await older.takeTransactionId()
    await late.takeTransactionId()
    const lateId = await late.append('late-commit')
    const earlyId = await older.append('early-commit')
    expect(earlyId).toBeGreaterThan(lateId)
    await older.commit()

    const [delivered] = await live.waitFor(1)
    expect(JSON.parse(delivered!.data).message).toBe('early-commit')
    await late.commit()
    const both = await live.waitFor(2)
    expect(both.map((m) => JSON.parse(m.data).message)).toEqual(['early-commit', 'late-commit'])
    live.close()

    const resumed = await openSse(`${base}/events/stream?project_id=${projectId}&event_type=external`, {
      'last-event-id': String(earlyId),
    })
    const [replayed] = await resumed.waitFor(1)
    expect(replayed!.id).toBe(String(lateId))
    const after = openWriter(handle, projectId)
    await after.append('after-resume')
    await after.commit()
    const all = await resumed.waitFor(2)
    expect(all.map((m) => JSON.parse(m.data).message)).toEqual(['late-commit', 'after-resume'])
    resumed.close()
    expect(live.messages).toHaveLength(2)
  })
})
