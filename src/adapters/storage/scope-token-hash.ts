import { sql, type RawBuilder } from 'kysely'
import type { ListingWithTokenHash, ReadScope } from '../../app/ports.js'

/** The column a listing's rows carry the scope's token hash in (the same on every row). */
export const SCOPE_TOKEN_HASH = 'scope_token_hash'

/**
 * The token hash of the project a run or project scope belongs to, as a scalar subquery selected
 * beside a listing's rows. It names only a parameter, not the outer rows, so both databases
 * evaluate it once per statement.
 */
export const scopeTokenHash = (scope: ReadScope): RawBuilder<string | null> =>
  scope.kind === 'project'
    ? sql<string | null>`(select api_token_hash from projects where id = ${scope.id})`
    : sql<string | null>`(select scope_project.api_token_hash from protocol_runs scope_run
        join projects scope_project on scope_project.id = scope_run.project_id where scope_run.id = ${scope.id})`

/** A listing's rows as items with the hash their first row carries; undefined when there are none. */
export const listingWithTokenHash = <Row, Item>(
  rows: readonly Row[],
  hashOf: (row: Row) => string | null,
  toItem: (row: Row) => Item,
): ListingWithTokenHash<Item> | undefined =>
  rows.length === 0 ? undefined : { items: rows.map(toItem), projectTokenHash: hashOf(rows[0]!) }
