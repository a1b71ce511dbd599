import { createHash } from 'node:crypto'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'
import type pg from 'pg'
import { isArrayRowsStatement } from './array-rows.js'
import { queryAfterBegin } from './postgres-begin.js'

/**
 * Distinct SQL texts given a server-side prepared statement per connection. `in (...)` lists and
 * batched statements of varying length make the set of texts open-ended; texts past the cap run
 * unnamed, as pg does by default.
 */
const NAMED_STATEMENTS_CAP = 256
/** Texts seen once and not yet named; a text is named the second time it runs. */
const SEEN_ONCE_CAP = 2_048

const OPENS_TRANSACTION = /^\s*(begin|start transaction)\b/i
// Not `rollback to savepoint`, after which the transaction goes on.
const CLOSES_TRANSACTION = /^\s*(commit|rollback|end|abort)\s*;?\s*$/i

/**
 * The pool as Kysely's Postgres driver sees it, with each repeated SQL text prepared once per
 * connection (pg's named statements): the server then skips parsing and analysing a statement it
 * has seen, a third of its CPU for the queue's short statements. Texts without parameters
 * (`begin`, `commit`, DDL) and texts seen only once stay unnamed.
 *
 * A prepared statement can go stale: a `select *` (or `returning *`) once another process's
 * migration adds a column, or a name the server no longer knows (`DEALLOCATE`, a pooler). Then
 * every name of that generation is retired (the next use of a text prepares it afresh; retired
 * statements stay on their connections, at most the cap per retirement), and the query is run
 * again when it was not inside a transaction; inside one, the transaction fails as a whole and
 * the caller's retry starts clean.
 */
export const withPreparedStatements = (pool: pg.Pool): PostgresPool => {
  const names = statementNames()
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  return {
    async connect() {
      const client = await pool.connect()
      let known = wrapped.get(client)
      if (known === undefined) {
        known = preparingClient(client, names)
        wrapped.set(client, known)
      }
      return known
    },
    end: () => pool.end(),
  }
}

interface StatementName {
  readonly name: string
  readonly generation: number
}

interface StatementNames {
  nameOf(text: string): StatementName | undefined
  /** Forgets the names of `generation` (when still current), so each text is prepared anew. */
  retire(generation: number): void
}

const statementNames = (): StatementNames => {
  let generation = 0
  let names = new Map<string, StatementName>()
  let seenOnce = new Set<string>()
  return {
    nameOf(text) {
      const known = names.get(text)
      if (known !== undefined || names.size >= NAMED_STATEMENTS_CAP) return known
      if (!seenOnce.has(text)) {
        if (seenOnce.size >= SEEN_ONCE_CAP) seenOnce = new Set()
        seenOnce.add(text)
        return undefined
      }
      seenOnce.delete(text)
      const hash = createHash('sha1').update(text).digest('hex').slice(0, 20)
      const named = { name: `tg${generation}_${hash}`, generation }
      names.set(text, named)
      return named
    },
    retire(stale) {
      // Queries in flight on other connections fail alike; the first retires, the rest find it done.
      if (stale !== generation) return
      generation += 1
      names = new Map()
    },
  }
}

// Exactly Kysely's `begin` (an isolation level or access mode is sent as it is).
const PLAIN_BEGIN = /^\s*begin\s*;?\s*$/i
const BEGUN: PostgresQueryResult<unknown> = { command: 'SELECT', rowCount: 0, rows: [] }

const preparingClient = (client: pg.PoolClient, names: StatementNames): PostgresPoolClient => {
  let inTransaction = false
  // A plain BEGIN waits to go out with the transaction's first statement (one round trip for both).
  let beginDeferred = false
  const send = async (text: string, values: unknown[], name?: string) => {
    const config = queryConfig(text, values, name)
    if (!beginDeferred) return (await client.query(config)) as PostgresQueryResult<unknown>
    beginDeferred = false
    // A statement without parameters may be several (DDL in a migration): BEGIN goes alone first.
    if (values.length === 0) await client.query('begin')
    else return (await queryAfterBegin(client, config)) as PostgresQueryResult<unknown>
    return (await client.query(config)) as PostgresQueryResult<unknown>
  }
  const run = async (text: string, values: unknown[]): Promise<PostgresQueryResult<unknown>> => {
    const named = values.length > 0 ? names.nameOf(text) : undefined
    const wasInTransaction = inTransaction || beginDeferred
    try {
      return await send(text, values, named?.name)
    } catch (error) {
      if (named === undefined || !isStalePreparedStatement(error)) throw error
      names.retire(named.generation)
      if (wasInTransaction) throw error
      return (await client.query(queryConfig(text, values))) as PostgresQueryResult<unknown>
    }
  }
  const query = async (
    text: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<unknown>> => {
    if (PLAIN_BEGIN.test(text) && parameters.length === 0 && !inTransaction) {
      beginDeferred = true
      inTransaction = true
      return BEGUN
    }
    if (beginDeferred && CLOSES_TRANSACTION.test(text)) {
      // A transaction that sent nothing has nothing to commit or roll back.
      beginDeferred = false
      inTransaction = false
      return BEGUN
    }
    try {
      return await run(text, [...parameters])
    } finally {
      if (OPENS_TRANSACTION.test(text)) inTransaction = true
      if (CLOSES_TRANSACTION.test(text)) inTransaction = false
    }
  }
  const cursor = (submittable: pg.Submittable) => {
    // pg sends queries in order: the BEGIN goes first, the cursor keeps its own unnamed statement.
    if (beginDeferred) void client.query('begin').catch(() => undefined)
    beginDeferred = false
    return client.query(submittable)
  }
  return {
    query: ((textOrCursor: unknown, parameters?: ReadonlyArray<unknown>) =>
      typeof textOrCursor === 'string'
        ? query(textOrCursor, parameters ?? [])
        : cursor(textOrCursor as pg.Submittable)) as PostgresPoolClient['query'],
    release: (destroy) => {
      beginDeferred = false
      client.release(destroy)
    },
  }
}

/** A statement marked for array rows (array-rows.ts) has pg return each row as an array. */
const queryConfig = (text: string, values: unknown[], name?: string): pg.QueryConfig | pg.QueryArrayConfig =>
  isArrayRowsStatement(text) ? { name, text, values, rowMode: 'array' } : { name, text, values }

/**
 * Matched on fields Postgres does not translate (messages follow `lc_messages`): 0A000 raised by
 * the plan cache ("cached plan must not change result type"), or 26000, a statement name the
 * server does not know.
 */
const isStalePreparedStatement = (error: unknown): boolean => {
  const { code, routine } = error as { code?: string; routine?: string }
  return (code === '0A000' && routine === 'RevalidateCachedQuery') || code === '26000'
}
