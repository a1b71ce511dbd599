import { sql, type RawBuilder, type SqlBool } from 'kysely'
import type { ReadScope, Reader } from '../../app/ports.js'

/** A scope one project's token decides: a run's (its project's) or a project's. */
export interface TokenScope {
  readonly kind: Extract<ReadScope['kind'], 'run' | 'project'>
  readonly id: number
}

/**
 * The token hash of the project a run or project scope belongs to, as a scalar subquery. It names
 * only a parameter, not the outer rows, so both databases evaluate it once per statement. Runs
 * never change project and nothing deletes projects or runs (foreign keys hold), so null means
 * "no token" wherever the scope has rows.
 */
const scopeTokenHash = (scope: TokenScope): RawBuilder<string | null> =>
  scope.kind === 'project'
    ? sql<string | null>`(select api_token_hash from projects where id = ${scope.id})`
    : sql<string | null>`(select scope_project.api_token_hash from protocol_runs scope_run
        join projects scope_project on scope_project.id = scope_run.project_id where scope_run.id = ${scope.id})`

/** True when a project whose token hash is `hash` (null: no token) may be read by `reader`. */
const readableHash = (hash: RawBuilder<string | null>, reader: Reader): RawBuilder<SqlBool> =>
  reader.presentedTokenHash === null
    ? sql<SqlBool>`${hash} is null`
    : sql<SqlBool>`coalesce(${hash}, ${reader.presentedTokenHash}) = ${reader.presentedTokenHash}`

/**
 * A condition on no row at all: whether `reader` may read the scope. Placed in a listing's `where`,
 * the database decides it once before reading any row (Postgres: a one-time filter), so a refused
 * listing is empty whatever the scope holds, and takes no longer for holding more.
 */
export const scopeReadableBy = (scope: TokenScope, reader: Reader): RawBuilder<SqlBool> =>
  readableHash(scopeTokenHash(scope), reader)

/** Per row: whether `reader` may read the project whose token hash is in column `column`. */
export const projectReadableBy = (column: string, reader: Reader): RawBuilder<SqlBool> =>
  readableHash(sql.ref(column), reader)
