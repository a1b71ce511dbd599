import pg from 'pg'

/** The parts of pg's connection a query writes its protocol messages with (not in pg's types). */
interface WireConnection {
  parse(message: { text: string; name?: string }): void
  bind(message: { portal: string; statement: string; values: unknown[] }): void
  execute(message: { portal: string }): void
}

/** pg's own extended-protocol steps, overridden below (not in pg's types). */
interface QueryInternals {
  prepare(connection: WireConnection): void
  handleCommandComplete(message: unknown, connection: WireConnection): void
}

const Query = pg.Query as unknown as new (
  config: pg.QueryConfig | pg.QueryArrayConfig,
  values: undefined,
  callback: (error: Error | undefined, result: pg.QueryResult) => void,
) => pg.Query & QueryInternals

/**
 * A parameterised statement preceded by `BEGIN` in the same write and under the same Sync: one
 * round trip for both, as libpq's pipeline mode does. An explicit `BEGIN` in an extended-query
 * sequence opens a transaction block that lasts past the Sync, so what follows is exactly what two
 * round trips would have done; if `BEGIN` fails, the server skips the statement up to the Sync,
 * so it never runs outside the transaction.
 */
class BeginThenQuery extends Query {
  private beginAnswered = false

  override prepare(connection: WireConnection): void {
    connection.parse({ text: 'begin' })
    connection.bind({ portal: '', statement: '', values: [] })
    connection.execute({ portal: '' })
    super.prepare(connection)
  }

  /** The first CommandComplete is the BEGIN's: not part of the statement's result. */
  override handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true
      return
    }
    super.handleCommandComplete(message, connection)
  }

  // Always the extended protocol (pg would send a statement without values as a simple query).
  requiresPreparation(): boolean {
    return true
  }
}

/** Opens a transaction and runs a statement with parameters in one round trip. */
export const queryAfterBegin = (
  client: pg.PoolClient,
  config: pg.QueryConfig | pg.QueryArrayConfig,
): Promise<pg.QueryResult> =>
  new Promise((resolve, reject) => {
    const query = new BeginThenQuery({ ...config }, undefined, (error, result) =>
      error ? reject(error) : resolve(result),
    )
    void client.query(query as unknown as pg.Submittable)
  })
