import { sql, type AliasedRawBuilder } from 'kysely'

/**
 * Reading several tables' whole rows in one joined statement: each table's columns are spelled
 * out and read under a prefix, so equal names (`id`, `status`, `created_at`) do not collide, and
 * each row is taken back out by its prefix for the table's own mapper.
 */

type Columns<Row> = keyof Row & string

/**
 * `columns` as given, when they are every column of `Row`: a column added to the table and not
 * here is a type error naming it, so a joined read never hands a mapper half a row.
 */
export const everyColumn =
  <Row>() =>
  <const C extends readonly Columns<Row>[]>(
    columns: C &
      ([Exclude<Columns<Row>, C[number]>] extends [never]
        ? unknown
        : { readonly missing: Exclude<Columns<Row>, C[number]> }),
  ): readonly Columns<Row>[] =>
    columns

/** The select list reading `columns` of the table aliased `alias` as `<prefix><column>`. */
export const prefixedSelection = (
  alias: string,
  columns: readonly string[],
  prefix: string,
): Array<AliasedRawBuilder<unknown, string>> =>
  columns.map((column) => sql.ref(`${alias}.${column}`).as(`${prefix}${column}`))

/** One table's row out of a joined row read with prefixedSelection. */
export const unprefixedRow = <Row>(
  joined: Readonly<Record<string, unknown>>,
  columns: readonly Columns<Row>[],
  prefix: string,
): Row => Object.fromEntries(columns.map((column) => [column, joined[`${prefix}${column}`]])) as Row
