import {
  CompiledQuery,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  sql,
} from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import type { Repositories } from '../../src/app/ports.js'
import { createRepositories } from '../../src/adapters/storage/unit-of-work.js'
import {
  belowCommittedHorizon,
  belowListingHorizon,
  otherDatabaseXids,
} from '../../src/adapters/storage/event-positions.js'
import { seed } from '../../bench/seed.js'
import { DIALECTS, openMigratedDatabase, PG_URL, unavailable } from '../support/databases.js'

// The event listings are keyset reads: newest first, a page at a time, whatever the table size.
// That holds only while their plans walk an index in order and stop at the limit; a plan that
// scans the table or sorts it makes every page cost as much as the table is large.

/** Records the SQL and parameters of every statement sent through it, compiled as the driver sees them. */
const capturing = (handle: DatabaseHandle, into: CompiledQuery[]): KyselyPlugin => ({
  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    into.push(handle.db.getExecutor().compileQuery(node, queryId))
    return node
  },
  transformResult: async ({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => result,
})

/** The plan of the one statement `list` sends, as text lines. */
const planOf = async (
  handle: DatabaseHandle,
  list: (repos: ReturnType<typeof createRepositories>) => Promise<unknown>,
  postgresExplain = 'explain ',
) => {
  const captured: CompiledQuery[] = []
  await list(createRepositories(handle.db.withPlugin(capturing(handle, captured))))
  // On Postgres the listing is preceded by its read of other databases' transactions.
  const sent = captured.filter((query) => !query.sql.includes('pg_stat_get_activity'))
  expect(sent).toHaveLength(1)
  const prefix = handle.dialect === 'sqlite' ? 'explain query plan ' : postgresExplain
  const { rows } = await handle.db.executeQuery<Record<string, unknown>>(
    CompiledQuery.raw(prefix + sent[0]!.sql, [...sent[0]!.parameters]),
  )
  return rows.map((row) => String(row.detail ?? row['QUERY PLAN']))
}

/** A session on another database of the cluster (PG_URL's), able to hold a transaction id open. */
const otherDatabaseSession = async () => {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  return {
    holdTransaction: async () => {
      await client.query('begin')
      await client.query('select pg_current_xact_id()')
    },
    commit: () => client.query('commit'),
    end: () => client.end(),
  }
}

describe.each(DIALECTS)('event listing plans (%s)', (dialect) => {
  let db: Awaited<ReturnType<typeof openMigratedDatabase>>
  beforeAll(async () => {
    if (unavailable(dialect)) return
    db = await openMigratedDatabase(dialect)
    // Enough rows that a planner weighing a scan against the index picks what it would at scale.
    await seed(db.handle.db, dialect, { projects: 10, runsPerProject: 10, events: 50_000 })
    await sql`analyze`.execute(db.handle.db)
  }, 60_000)
  afterAll(async () => db?.close())

  const lastEventsOfRun = {
    list: (repos: Repositories) => repos.events.list({ protocolRunId: 5, limit: 100, excludeProjectIds: [] }),
    // The API's read: the same page, read only if the run's project lets the token read it.
    readableBy: (repos: Repositories) =>
      repos.events.list({
        protocolRunId: 5,
        limit: 100,
        readableBy: { presentedTokenHash: 'ab'.repeat(32) },
      }),
  }

  it.skipIf(unavailable(dialect)).each(Object.keys(lastEventsOfRun) as Array<keyof typeof lastEventsOfRun>)(
    'the last 100 events of a run (%s): an ordered index range, no sort, no scan',
    async (read) => {
      const plan = await planOf(db.handle, lastEventsOfRun[read])
      const text = plan.join('\n')
      if (dialect === 'sqlite') {
        // Covering: the page is one range of the index, no table row looked up per event.
        expect(text).toMatch(/SEARCH e USING COVERING INDEX events_run_idx \(protocol_run_id=\?\)/)
        expect(text).not.toMatch(/TEMP B-TREE|SCAN e\b/)
        // The reader's check names no row: evaluated once, not per event.
        expect(text).not.toMatch(/CORRELATED/)
      } else {
        expect(text).toMatch(/Index (Only )?Scan Backward using events_run_idx on events e/)
        expect(text).not.toMatch(/Sort|Seq Scan on events/)
      }
    },
  )

  const globalFeed = {
    excludeProjectIds: (repos: Repositories) => repos.events.list({ limit: 50, excludeProjectIds: [10] }),
    // The API's read: only projects without a token or with the presented one.
    readableBy: (repos: Repositories) =>
      repos.events.list({ limit: 50, readableBy: { presentedTokenHash: 'ab'.repeat(32) } }),
  }

  it.skipIf(unavailable(dialect)).each(Object.keys(globalFeed) as Array<keyof typeof globalFeed>)(
    'the global feed (%s): the table walked newest first, stopping at the limit',
    async (read) => {
      const plan = await planOf(db.handle, globalFeed[read])
      const text = plan.join('\n')
      if (dialect === 'sqlite') {
        expect(text).toMatch(/SCAN e\b/)
        expect(text).not.toMatch(/TEMP B-TREE/)
      } else {
        expect(text).toMatch(/Limit[\s\S]*Index (Only )?Scan Backward using events_position_idx on events e/)
        expect(text).not.toMatch(/Sort|Seq Scan on events/)
      }
    },
  )

  it.skipIf(dialect !== 'postgres' || unavailable(dialect))(
    'keeps an event below the horizon when a transaction of another database ends between the snapshot and the look at it',
    async () => {
      const other = await otherDatabaseSession()
      try {
        await other.holdTransaction()
        const event = await createRepositories(db.handle.db).events.append({
          projectId: 1,
          protocolRunId: 6,
          eventType: 'after-other',
          message: 'written while another database has a transaction open',
        })
        const { rows: stamped } = await sql<{
          txid: string
        }>`select txid::text from events where id = ${event.id}`.execute(db.handle.db)
        const txid = sql.lit(Number(stamped[0]!.txid))
        const others = await otherDatabaseXids(db.handle.db)
        // A snapshot taken while the other transaction runs, read after it ended: the race between
        // a statement's snapshot and its look at pg_stat_activity, made certain.
        await db.handle.db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(async (reader) => {
            await sql`select 1`.execute(reader)
            await other.commit()
            const { rows } = await sql<{ looked_after: boolean; listed: boolean }>`select
                ${belowCommittedHorizon(txid)} as looked_after, ${belowListingHorizon(txid, others)} as listed`.execute(
              reader,
            )
            // Looking after the snapshot takes the ended transaction for one of ours and holds the
            // event back, which an earlier listing may have shown; the list read before does not.
            expect(rows[0]).toEqual({ looked_after: false, listed: true })
          })
      } finally {
        await other.end()
      }
    },
  )

  it.skipIf(dialect !== 'postgres' || unavailable(dialect))(
    "reads other databases' transactions once for the listings asked together, and afresh for a later one",
    async () => {
      const captured: CompiledQuery[] = []
      const repos = createRepositories(db.handle.db.withPlugin(capturing(db.handle, captured)))
      const lookups = () => captured.filter((query) => query.sql.includes('pg_stat_get_activity')).length
      const page = () => repos.events.list({ protocolRunId: 5, limit: 20 })
      const together = await Promise.all([page(), page(), page(), page()])
      expect(lookups()).toBe(1)
      // Sharing the look changes no page: each is what a listing alone returns.
      const alone = await page()
      together.forEach((listed) => expect(listed).toEqual(alone))
      expect(lookups()).toBe(2)
    },
  )

  it.skipIf(dialect !== 'postgres' || unavailable(dialect))(
    "looks at other databases' sessions only when the oldest running transaction does not decide",
    async () => {
      // A transaction in the snapshot's in-progress list; a stamp below it is decided by the cheap
      // bound (the exact horizon's init plan never runs), a stamp above it needs the exact one.
      const other = await otherDatabaseSession()
      const plans: string[] = []
      try {
        await other.holdTransaction()
        // A later transaction ends, so the snapshot's xmax passes the running one.
        await sql`select pg_current_xact_id()`.execute(db.handle.db)
        for (const stamp of [1, Number.MAX_SAFE_INTEGER]) {
          const { rows } = await sql<Record<string, string>>`explain (analyze, costs off, timing off)
            select ${belowCommittedHorizon(sql.lit(stamp))} as below`.execute(db.handle.db)
          plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'))
        }
      } finally {
        await other.end()
      }
      const [below, above] = plans
      expect(below).toMatch(/Function Scan on pg_snapshot_xip x \(actual rows=[1-9]/)
      expect(below).toMatch(/Function Scan on pg_stat_get_activity a \(never executed\)/)
      expect(above).toMatch(/Function Scan on pg_stat_get_activity a \(actual rows=/)
    },
  )

  it.skipIf(dialect !== 'postgres' || unavailable(dialect))(
    'in a transaction, skips a transaction another database began after the first listing in it',
    async () => {
      const other = await otherDatabaseSession()
      try {
        await db.handle.db.transaction().execute(async (trx) => {
          const repos = createRepositories(trx)
          await repos.events.list({ protocolRunId: 7, limit: 1 })
          await other.holdTransaction()
          const event = await createRepositories(db.handle.db).events.append({
            projectId: 1,
            protocolRunId: 7,
            eventType: 'after-other-began',
            message: 'committed while another database has a transaction open',
          })
          // Postgres keeps a transaction's first look at the sessions: reused, it would count the
          // other database's transaction as ours and hold this event back.
          const listed = await repos.events.list({ protocolRunId: 7, limit: 1 })
          expect(listed[0]?.id).toBe(event.id)
        })
      } finally {
        await other.end()
      }
    },
  )
})
