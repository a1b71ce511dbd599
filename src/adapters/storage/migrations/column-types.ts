import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type Expression, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'

/** The few column types that differ between dialects; everything else is spelled the same. */
export interface ColumnTypes {
  readonly id: ColumnDataType
  readonly json: Expression<unknown>
  readonly timestamp: ColumnDataType
  readonly money: ColumnDataType
  /** Makes the `id` column an auto-increment primary key. */
  readonly primaryKey: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder
}

export const columnTypes = (dialect: Dialect): ColumnTypes =>
  dialect === 'postgres'
    ? {
        id: 'serial',
        json: sql`jsonb`,
        timestamp: 'timestamptz',
        money: 'double precision',
        primaryKey: (c) => c.primaryKey(),
      }
    : {
        id: 'integer',
        json: sql`text`,
        timestamp: 'text',
        money: 'real',
        primaryKey: (c) => c.primaryKey().autoIncrement(),
      }

// Migrations are typed against Kysely<any> on purpose: they must not depend on today's schema types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>
