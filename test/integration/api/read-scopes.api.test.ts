import pg from 'pg'
import type { Counter } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../../src/adapters/storage/database.js'
import { createRepositories } from '../../../src/adapters/storage/unit-of-work.js'
import { hashToken } from '../../../src/app/secrets.js'
import { createProject, createProtocol, createStep, openTestApi, type TestApi } from '../../support/api.js'
import { DIALECTS, unavailable } from '../../support/databases.js'

const messages = (body: string): string[] =>
  (JSON.parse(body) as Array<{ message: string }>).map((e) => e.message)

/** Memo lookups so far, read from the server's own counter. */
const lookups = async (api: TestApi): Promise<{ hit: number; miss: number }> => {
  const metric = api.runtime.metrics.registry.getSingleMetric('read_memo_lookups_total') as Counter<'result'>
  const values = (await metric.get()).values
  const count = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0
  return { hit: count('hit'), miss: count('miss') }
}

/** The reads a console keeps open on one run and its project. */
const runReads = (run: { id: number }, projectId: number): string[] => [
  `/protocols/${run.id}`,
  `/protocols/${run.id}/steps`,
  `/protocols/${run.id}/events`,
  `/projects/${projectId}/protocols`,
  `/projects/${projectId}`,
]

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`memoized reads per run and project on ${dialect}`, () => {
    let api: TestApi
    /** Another connection to the same database: a worker process's writes. */
    let other: DatabaseHandle
    let project: { id: number }

    beforeAll(async () => {
      api = await openTestApi(dialect)
      other = openDatabase(api.runtime.config.database)
      project = await createProject(api)
    })
    afterAll(async () => {
      await other?.close()
      await api?.close()
    })

    const appendElsewhere = (runId: number, message: string) =>
      createRepositories(other.db).events.append({
        projectId: project.id,
        protocolRunId: runId,
        eventType: 'agent_output',
        message,
      })

    it('keeps serving a run’s reads from memory while another run is written', async () => {
      const busy = await createProtocol(api, project.id)
      const quiet = await createProtocol(api, project.id)
      await createStep(api, quiet.id)
      const reads = runReads(quiet, project.id)
      const first = await Promise.all(reads.map((url) => api.request('GET', url)))
      await appendElsewhere(busy.id, 'busy-1')
      await appendElsewhere(busy.id, 'busy-2')
      const before = await lookups(api)
      const again = await Promise.all(reads.map((url) => api.request('GET', url)))
      const after = await lookups(api)
      expect(after.hit - before.hit).toBe(reads.length)
      expect(again.map((r) => r.body)).toEqual(first.map((r) => r.body))
      // The written run's own listing is computed again and shows both writes.
      expect(messages((await api.request('GET', `/protocols/${busy.id}/events`)).body)).toEqual(
        expect.arrayContaining(['busy-1', 'busy-2']),
      )
    })

    it('keeps serving a run’s detail and steps from memory while its own events are written', async () => {
      const run = await createProtocol(api, project.id)
      await createStep(api, run.id)
      const steady = [`/protocols/${run.id}`, `/protocols/${run.id}/steps`]
      const first = await Promise.all(steady.map((url) => api.request('GET', url)))
      await api.request('GET', `/protocols/${run.id}/events`)
      await appendElsewhere(run.id, 'agent-line-1')
      await appendElsewhere(run.id, 'agent-line-2')
      const before = await lookups(api)
      const again = await Promise.all(steady.map((url) => api.request('GET', url)))
      const events = await api.request('GET', `/protocols/${run.id}/events`)
      const after = await lookups(api)
      expect(again.map((r) => r.body)).toEqual(first.map((r) => r.body))
      expect(messages(events.body)).toEqual(expect.arrayContaining(['agent-line-1', 'agent-line-2']))
      expect(after.hit - before.hit).toBe(steady.length)
    })

    it('answers reads of the whole data and of one run asked together, each by its own version', async () => {
      const run = await createProtocol(api, project.id)
      const other = await createProtocol(api, project.id)
      await createStep(api, run.id)
      const urls = ['/events?limit=500', `/protocols/${run.id}/steps`, '/projects']
      const together = () => Promise.all(urls.map((url) => api.request('GET', url)))
      // On Postgres the whole data's version is the server's snapshot, which any transaction of
      // the server moves (other databases' included): a round may miss, some round must not.
      let first = await together()
      let servedFromMemory = false
      for (let round = 0; round < 20 && !servedFromMemory; round++) {
        const before = await lookups(api)
        first = await together()
        servedFromMemory = (await lookups(api)).hit - before.hit === urls.length
      }
      expect(servedFromMemory).toBe(true)
      await appendElsewhere(other.id, 'whole-data-moved')
      const [feed, steps, projects] = await together()
      expect(messages(feed!.body)).toContain('whole-data-moved')
      expect(steps!.body).toBe(first[1]!.body)
      expect(projects!.body).toBe(first[2]!.body)
    })

    it('shows another process’s commit to the run on the very next read of each of its listings', async () => {
      const run = await createProtocol(api, project.id)
      const step = await createStep(api, run.id)
      for (const url of runReads(run, project.id)) await api.request('GET', url)
      for (const url of runReads(run, project.id)) await api.request('GET', url)

      await appendElsewhere(run.id, 'from-worker')
      expect(messages((await api.request('GET', `/protocols/${run.id}/events`)).body)).toContain(
        'from-worker',
      )

      await other.db
        .updateTable('step_runs')
        .set({ summary: 'done elsewhere' })
        .where('id', '=', step.id)
        .execute()
      expect((await api.request('GET', `/protocols/${run.id}/steps`)).json()).toMatchObject([
        { id: step.id, summary: 'done elsewhere' },
      ])

      await other.db
        .updateTable('protocol_runs')
        .set({ description: 'moved on' })
        .where('id', '=', run.id)
        .execute()
      expect((await api.request('GET', `/protocols/${run.id}`)).json()).toMatchObject({
        description: 'moved on',
      })
      const listed = (await api.request('GET', `/projects/${project.id}/protocols`)).json() as Array<{
        id: number
        description: string | null
      }>
      expect(listed.find((r) => r.id === run.id)?.description).toBe('moved on')
    })

    it('refuses a run’s kept reads once its project is given a token elsewhere', async () => {
      const guarded = await createProject(api)
      const run = await createProtocol(api, guarded.id)
      for (const url of runReads(run, guarded.id)) {
        expect((await api.request('GET', url)).statusCode).toBe(200)
        expect((await api.request('GET', url)).statusCode).toBe(200)
      }
      await other.db
        .updateTable('projects')
        .set({ api_token_hash: hashToken('tok-set-elsewhere') })
        .where('id', '=', guarded.id)
        .execute()
      for (const url of runReads(run, guarded.id))
        expect((await api.request('GET', url)).statusCode).toBe(401)
    })

    it('computes a listing once for concurrent misses of it, and answers them all with that body', async () => {
      const run = await createProtocol(api, project.id)
      await appendElsewhere(run.id, 'fresh')
      const before = await lookups(api)
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => api.request('GET', `/protocols/${run.id}/events`)),
      )
      const after = await lookups(api)
      expect(after.miss - before.miss).toBe(1)
      expect(after.hit - before.hit).toBe(7)
      expect(new Set(answers.map((a) => a.body)).size).toBe(1)
      expect(messages(answers[0]!.body)).toContain('fresh')
    })

    it('lets concurrent callers of a refused read compute their own answers', async () => {
      const guarded = await createProject(api, { secrets: { api_token: 'tok-flight' } })
      const run = await createProtocol(api, guarded.id, {}, { 'x-project-token': 'tok-flight' })
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => api.request('GET', `/protocols/${run.id}/events`)),
      )
      expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 401, 401])
    })

    it('puts no stamp column in the JSON of projects, runs, steps or events', async () => {
      const run = await createProtocol(api, project.id)
      const step = await createStep(api, run.id)
      await appendElsewhere(run.id, 'stamped')
      const urls = [
        ...runReads(run, project.id),
        '/projects',
        `/steps/${step.id}`,
        '/events?limit=500',
        `/events?protocol_run_id=${run.id}`,
      ]
      for (const url of urls) {
        const response = await api.request('GET', url)
        expect(response.statusCode, url).toBe(200)
        expect(response.body, url).not.toMatch(/txid|read_scope/)
      }
      expect(JSON.stringify(run)).not.toContain('txid')
      expect(JSON.stringify(step)).not.toContain('txid')
    })
  })
}

describe.skipIf(unavailable('postgres'))('memoized run reads under concurrent Postgres writers', () => {
  let api: TestApi
  let project: { id: number }
  const url = () => (api.runtime.config.database as { url: string }).url

  beforeAll(async () => {
    api = await openTestApi('postgres')
    project = await createProject(api)
  })
  afterAll(async () => api?.close())

  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url() })
    await client.connect()
    return client
  }
  const insertEvent = (client: pg.Client, runId: number, message: string) =>
    client.query(
      `insert into events (project_id, protocol_run_id, event_type, message, created_at, txid)
       values ($1, $2, 'agent_output', $3, now(), pg_current_xact_id()::text::bigint)`,
      [project.id, runId, message],
    )

  it('shows a run’s event once an older transaction of another run commits, though the run was not written again', async () => {
    const held = await createProtocol(api, project.id)
    const run = await createProtocol(api, project.id)
    const eventsUrl = `/protocols/${run.id}/events`
    const older = await connect()
    const writer = await connect()
    try {
      await older.query('begin')
      await insertEvent(older, held.id, 'older-open') // takes its transaction id first
      await insertEvent(writer, run.id, 'newer-committed')
      // Below the horizon of the still open older transaction: not listed yet, computed or kept.
      expect(messages((await api.request('GET', eventsUrl)).body)).not.toContain('newer-committed')
      expect(messages((await api.request('GET', eventsUrl)).body)).not.toContain('newer-committed')
      await older.query('commit')
      expect(messages((await api.request('GET', eventsUrl)).body)).toContain('newer-committed')
      // Final now, and kept: the next read is served from memory.
      const before = await lookups(api)
      expect(messages((await api.request('GET', eventsUrl)).body)).toContain('newer-committed')
      expect((await lookups(api)).hit - before.hit).toBe(1)
    } finally {
      await older.end()
      await writer.end()
    }
  })

  it('never lists fewer of a run’s events than before, and lists all of them once its writers are done', async () => {
    const run = await createProtocol(api, project.id)
    const neighbour = await createProtocol(api, project.id)
    const writers = await Promise.all([connect(), connect(), connect()])
    const written: string[] = []
    let writing = true
    const write = async (client: pg.Client, n: number) => {
      for (let i = 0; writing; i++) {
        const target = i % 2 === 0 ? run.id : neighbour.id
        await client.query('begin')
        await insertEvent(client, target, `w${n}-${i}`)
        // Held open a moment, so that commits land out of transaction-id order.
        await new Promise((resolve) => setTimeout(resolve, (i * 7 + n * 3) % 5))
        await client.query('commit')
        if (target === run.id) written.push(`w${n}-${i}`)
      }
    }
    const running = writers.map((client, n) => write(client, n))
    try {
      let seen = new Set<string>()
      const stopAt = Date.now() + 1500
      while (Date.now() < stopAt) {
        const listed = new Set(
          messages((await api.request('GET', `/protocols/${run.id}/events?limit=1000`)).body),
        )
        for (const message of seen) expect(listed, `${message} vanished`).toContain(message)
        seen = listed
      }
    } finally {
      writing = false
      await Promise.all(running)
      await Promise.all(writers.map((client) => client.end()))
    }
    const final = messages((await api.request('GET', `/protocols/${run.id}/events?limit=1000`)).body)
    expect(final).toEqual(expect.arrayContaining(written))
    expect(written.length).toBeGreaterThan(10)
  })
})
