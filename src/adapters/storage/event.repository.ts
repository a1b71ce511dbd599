import { sql, type Kysely, type SqlBool } from 'kysely'
import { isPostgres } from './dialect.js'
import type { EventFilter, EventRepository, Reader } from '../../app/ports.js'
import { sharedPerTurn } from '../../app/reads-per-turn.js'
import { selectArrays } from './array-rows.js'
import {
  CURRENT_TXID,
  EVENT_LISTING_COLUMNS,
  eventWithContextOf,
  toEvent,
  toEventColumns,
} from './event.table.js'
import { belowListingHorizon, eventPosition, otherDatabaseXids, positionOf } from './event-positions.js'
import type { Database } from './schema.js'
import { projectReadableBy, scopeReadableBy, type TokenScope } from './readable-by.js'

/** EventFilter.readableBy's rule: the filter's run and project as scopes, else each event's project. */
const readableBy = (filter: EventFilter, reader: Reader) => {
  const scopes: TokenScope[] = []
  if (filter.protocolRunId !== undefined) scopes.push({ kind: 'run', id: filter.protocolRunId })
  if (filter.projectId !== undefined) scopes.push({ kind: 'project', id: filter.projectId })
  if (scopes.length === 0) return projectReadableBy('p.api_token_hash', reader)
  return sql<SqlBool>`${sql.join(
    scopes.map((scope) => scopeReadableBy(scope, reader)),
    sql` and `,
  )}`
}

/**
 * The other databases' transactions a listing skips, read before its statement. On the pool the
 * read is shared by the listings asked in the same turn (or while the previous read was under way):
 * it still begins after each of them asked, hence after every listing that ended before they asked
 * had read its own, which is all the horizon needs to never move back (event-positions.ts). In a
 * transaction it is read on that transaction's connection, afresh for each listing. A look that
 * hung would hold every listing of the pool back; it reads the sessions list and one catalog row
 * and waits on no lock a writer holds.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs on any database handle or transaction
const otherDatabasesReader = (db: Kysely<any>): (() => Promise<string[]>) =>
  db.isTransaction ? () => otherDatabaseXids(db) : sharedPerTurn(() => otherDatabaseXids(db))

export const createEventRepository = (db: Kysely<Database>): EventRepository => {
  const postgres = isPostgres(db)
  const othersBeforeListing = postgres ? otherDatabasesReader(db) : async () => []
  return {
    async append(event) {
      const row = await db
        .insertInto('events')
        .values({ ...toEventColumns(event), ...(postgres ? { txid: CURRENT_TXID } : {}) })
        .returningAll()
        .executeTakeFirstOrThrow()
      return toEvent(row)
    },

    async list(filter: EventFilter) {
      let query = db
        .selectFrom('events as e')
        .leftJoin('protocol_runs as r', 'r.id', 'e.protocol_run_id')
        .innerJoin('projects as p', 'p.id', 'e.project_id')
        .select(EVENT_LISTING_COLUMNS[postgres ? 'postgres' : 'sqlite'])
      if (filter.projectId !== undefined) query = query.where('e.project_id', '=', filter.projectId)
      if (filter.protocolRunId !== undefined)
        query = query.where('e.protocol_run_id', '=', filter.protocolRunId)
      if (filter.eventType !== undefined) query = query.where('e.event_type', '=', filter.eventType)
      if (filter.since !== undefined) query = query.where('e.created_at', '>=', filter.since)
      if (filter.excludeProjectIds?.length)
        query = query.where('e.project_id', 'not in', [...filter.excludeProjectIds])
      if (filter.readableBy !== undefined) query = query.where(readableBy(filter, filter.readableBy))
      const order = filter.order ?? 'desc'
      if (postgres) {
        // Ordered by position (txid, id), and only what no running transaction can still precede,
        // so that any event's id is a cursor after which nothing can appear later (see event-positions.ts).
        query = query.where(belowListingHorizon(sql.ref('e.txid'), await othersBeforeListing()))
        if (filter.beforeId !== undefined)
          query = query.where(sql<boolean>`${eventPosition} < ${positionOf(filter.beforeId)}`)
        if (filter.afterId !== undefined)
          query = query.where(sql<boolean>`${eventPosition} > ${positionOf(filter.afterId)}`)
        query = query.orderBy('e.txid', order).orderBy('e.id', order)
      } else {
        // SQLite has one writer at a time: ids grow in commit order, and a single-column keyset
        // keeps every page an index range scan whatever the table size.
        if (filter.beforeId !== undefined) query = query.where('e.id', '<', filter.beforeId)
        if (filter.afterId !== undefined) query = query.where('e.id', '>', filter.afterId)
        query = query.orderBy('e.id', order)
      }
      const rows = await selectArrays(db, query.limit(filter.limit))
      return rows.map(eventWithContextOf)
    },
  }
}
