import { sql, type Kysely, type RawBuilder } from 'kysely'

/**
 * Postgres event positions. Event ids come from a sequence, so a transaction can take id 7, and
 * commit after another one that took id 8 has committed and been read: a reader that moved its
 * cursor to 8 would never see 7. Every event therefore records the id of the transaction that
 * wrote it (`txid`), readers order by the position `(txid, id)`, and they only return events whose
 * transaction is older than every transaction still running in this database. No transaction can
 * later commit an event below that horizon, so the listed prefix of positions is final and any
 * listed event's id is a safe resume cursor (docs/decisions.md, "Event positions").
 *
 * The fragments belong in the same statement as the rows they compare against: a statement's rows
 * and `pg_current_snapshot()` then come from the same snapshot. The one exception is the list of
 * other databases' transactions, which must be read before it (otherDatabaseXids).
 */

/** An event's position, for row comparisons. */
export const eventPosition = sql`(e.txid, e.id)`

/**
 * The position of event `id` (the cursor a client sends back). An id that names no visible event
 * takes the transaction of the nearest older event, so a resume from it neither replays nor skips
 * more than the events around that id.
 */
export const positionOf = (id: number) =>
  sql`(coalesce((select c.txid from events c where c.id <= ${id} order by c.id desc limit 1), 0), cast(${id} as integer))`

/** The sessions of other databases of the cluster that hold a transaction id, as `from … where …`. */
const OTHER_DATABASE_ACTIVITY = sql`
  from pg_stat_get_activity(null) as a
  where a.backend_xid is not null
    and a.datid <> (select d.oid from pg_database d where d.datname = current_database())`

/**
 * The smallest in-progress transaction id of this statement's snapshot that `counts` (a condition
 * on `x.xid`), else the snapshot's xmax. Ids are 64-bit (epoch and 32-bit xid).
 */
const horizonCounting = (counts: RawBuilder<boolean>) => sql`(
  select coalesce(
    (select min(x.xid::text::bigint) from pg_snapshot_xip(s.snap) as x(xid) where ${counts}),
    pg_snapshot_xmax(s.snap)::text::bigint
  )
  from (select pg_current_snapshot() as snap) as s
)`

/** A snapshot's in-progress id as the 32-bit xid `pg_stat_activity` shows. */
const XID32 = sql`x.xid::text::bigint % 4294967296`

/**
 * The oldest transaction id that may still write events here: the horizon ignoring transactions
 * known to run in another database of the cluster (they never write our events, and waiting for
 * them would delay events for nothing), looked at inside this statement. Transactions whose
 * database cannot be seen (finished since, or hidden by privileges) count as ours: waiting is
 * safe, skipping is not.
 */
export const committedHorizon = horizonCounting(
  sql`${XID32} not in (select a.backend_xid::text::bigint ${OTHER_DATABASE_ACTIVITY})`,
)

/**
 * The oldest transaction of this statement's snapshot that may still be running, in any database:
 * a lower bound of `committedHorizon` that needs no look at `pg_stat_activity`.
 */
const oldestRunning = horizonCounting(sql<boolean>`true`)

/**
 * Transactions running now in other databases of the cluster, as 32-bit xids. Read in a statement
 * of its own *before* a listing's: each id in it belongs to another database for good, and a
 * transaction skipped by an earlier listing that is still running at a later listing's snapshot
 * was running when that listing's list was read, so it is skipped again and the horizon never
 * moves back. Read inside the listing's statement instead, after its snapshot, a transaction of
 * another database that ended in between would count as ours and pull the horizon down below
 * events an earlier listing showed (docs/decisions.md, "Event positions").
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs on any database handle or transaction
export const otherDatabaseXids = async (db: Kysely<any>): Promise<string[]> => {
  // A transaction keeps its first look at the sessions until it ends: a second listing in it would
  // reuse a list older than a listing made elsewhere in between, and its horizon could move back.
  if (db.isTransaction) await sql`select pg_stat_clear_snapshot()`.execute(db)
  const { rows } = await sql<{ xids: string[] | null }>`
    select array_agg(a.backend_xid::text) as xids ${OTHER_DATABASE_ACTIVITY}`.execute(db)
  return rows[0]?.xids ?? []
}

/**
 * The listings' horizon: as committedHorizon, skipping `others` (otherDatabaseXids, read before
 * this statement) instead of looking inside it.
 */
const horizonSkipping = (others: readonly string[]) =>
  horizonCounting(sql`${XID32} <> all(${others}::bigint[])`)

/** `txid` is below the listings' horizon: no transaction of this database can still precede it. */
export const belowListingHorizon = (txid: RawBuilder<unknown>, others: readonly string[]) =>
  sql<boolean>`(${txid} < ${oldestRunning} or ${txid} < ${horizonSkipping(others)})`

/**
 * `txid < committedHorizon`, decided by the cheaper lower bound when that suffices (the scope
 * versions: a horizon that drops there only withholds a version, so the next read computes). Reading
 * `pg_stat_activity` costs ~0.4 ms of server time whenever any transaction is running, more than
 * the rest of a page of events; both bounds are init plans, which Postgres evaluates when a row
 * first needs them, so only a statement meeting a transaction id at or above the oldest running
 * one pays for the exact horizon.
 */
export const belowCommittedHorizon = (txid: RawBuilder<unknown>) =>
  sql<boolean>`(${txid} < ${oldestRunning} or ${txid} < ${committedHorizon})`
