import { paint, visibleWidth, type Style } from './style.js'

export interface Column<T> {
  readonly header: string
  readonly value: (row: T) => string
  /** Right-align (numbers). */
  readonly right?: boolean
}

/**
 * Left-aligned columns separated by two spaces, a dashed rule under the header, no trailing
 * spaces. The header is bold on a colour TTY. An empty list prints a one-line note instead.
 */
export const renderTable = <T>(
  columns: readonly Column<T>[],
  rows: readonly T[],
  style: Style,
  empty = '(none)',
): string => {
  if (rows.length === 0) return `${empty}\n`
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))))
  const widths = columns.map((column, i) =>
    Math.max(visibleWidth(column.header), ...cells.map((r) => visibleWidth(r[i] ?? ''))),
  )
  const line = (values: readonly string[]): string =>
    values
      .map((value, i) => pad(value, widths[i] ?? 0, columns[i]?.right === true, i === values.length - 1))
      .join('  ')
      .trimEnd()
  const header = line(columns.map((c) => c.header))
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [paint(style, 'bold', header), rule, ...cells.map(line)].join('\n') + '\n'
}

/** `key: value` lines with the keys aligned. */
export const renderFields = (fields: ReadonlyArray<readonly [string, string]>, style: Style): string => {
  const width = Math.max(...fields.map(([key]) => key.length))
  return (
    fields.map(([key, value]) => `${paint(style, 'gray', `${key}:`.padEnd(width + 1))} ${value}`).join('\n') +
    '\n'
  )
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ')

const pad = (text: string, width: number, right: boolean, last: boolean): string => {
  const gap = ' '.repeat(Math.max(0, width - visibleWidth(text)))
  if (right) return gap + text
  return last ? text : text + gap
}
