import { createHash } from 'node:crypto'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'
import type pg from 'pg'

/**
 * Distinct SQL texts given a server-side prepared statement per connection. `in (...)` lists and
 * batched statements of varying length make the set of texts open-ended; texts past the cap run
 * unnamed, as pg does by default.
 */
const NAMED_STATEMENTS_CAP = 256

const OPENS_TRANSACTION = /^\s*(begin|start transaction)\b/i
// Not `rollback to savepoint`, after which the transaction goes on.
const CLOSES_TRANSACTION = /^\s*(commit|rollback|end|abort)\s*;?\s*$/i

/** Postgres refuses to reuse a prepared `select *` once a migration has changed the table's columns. */
const RESULT_TYPE_CHANGED = 'cached plan must not change result type'

/**
 * The pool as Kysely's Postgres driver sees it, with each SQL text prepared once per connection
 * (pg's named statements): the server then skips parsing and analysing a statement it has seen,
 * which is a fifth of its CPU for the queue's short statements.
 *
 * A prepared `select *` (or `returning *`) fails once another process's migration adds a column.
 * When that happens every name is retired (the next use of a text prepares it afresh; the retired
 * statements stay on their connections, at most the cap per migration), and the query is run
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

interface StatementNames {
  nameOf(text: string): string | undefined
  /** Forgets every name, so that each text is prepared again under a new one. */
  retire(): void
}

const statementNames = (): StatementNames => {
  let generation = 0
  let names = new Map<string, string>()
  return {
    nameOf(text) {
      const known = names.get(text)
      if (known !== undefined || names.size >= NAMED_STATEMENTS_CAP) return known
      const name = `tg${generation}_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
      names.set(text, name)
      return name
    },
    retire() {
      generation += 1
      names = new Map()
    },
  }
}

const preparingClient = (client: pg.PoolClient, names: StatementNames): PostgresPoolClient => {
  let inTransaction = false
  const run = async (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const name = names.nameOf(text)
    return client.query(name === undefined ? { text, values } : { name, text, values })
  }
  const query = async (
    text: string,
    parameters: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<unknown>> => {
    const values = [...parameters]
    const opensTransaction = OPENS_TRANSACTION.test(text)
    const closesTransaction = CLOSES_TRANSACTION.test(text)
    try {
      const result = await run(text, values)
      return result as PostgresQueryResult<unknown>
    } catch (error) {
      if (!isResultTypeChanged(error)) throw error
      names.retire()
      if (inTransaction) throw error
      return (await run(text, values)) as PostgresQueryResult<unknown>
    } finally {
      if (opensTransaction) inTransaction = true
      if (closesTransaction) inTransaction = false
    }
  }
  return {
    query: ((textOrCursor: unknown, parameters?: ReadonlyArray<unknown>) =>
      typeof textOrCursor === 'string'
        ? query(textOrCursor, parameters ?? [])
        : // A cursor (streaming) keeps its own unnamed statement.
          client.query(textOrCursor as pg.Submittable)) as PostgresPoolClient['query'],
    release: (destroy) => client.release(destroy),
  }
}

const isResultTypeChanged = (error: unknown): boolean =>
  error instanceof Error &&
  (error as { code?: string }).code === '0A000' &&
  error.message.includes(RESULT_TYPE_CHANGED)
