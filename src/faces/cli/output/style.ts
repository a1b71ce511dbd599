/** How output is rendered: a TTY gets colour and status symbols, a pipe gets plain aligned text. */
export interface Style {
  readonly tty: boolean
  readonly color: boolean
}

export const PLAIN: Style = { tty: false, color: false }

/** Colour only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export const styleFor = (
  isTTY: boolean | undefined,
  env: { readonly NO_COLOR?: string; readonly TERM?: string },
): Style => {
  const tty = isTTY === true
  return { tty, color: tty && !env.NO_COLOR && env.TERM !== 'dumb' }
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const
export type Colour = keyof typeof CODES

export const paint = (style: Style, colour: Colour, text: string): string =>
  style.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text

// eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g

/** The width a string takes in a terminal (ANSI escapes take none). */
export const visibleWidth = (text: string): number => [...text.replace(ANSI, '')].length

export const stripAnsi = (text: string): string => text.replace(ANSI, '')

const STATUS_LOOK: Record<string, readonly [string, Colour]> = {
  pending: ['○', 'gray'],
  planning: ['◔', 'blue'],
  planned: ['◑', 'blue'],
  running: ['▶', 'cyan'],
  needs_qa: ['◆', 'magenta'],
  waiting_quota: ['⧗', 'yellow'],
  paused: ['‖', 'yellow'],
  blocked: ['■', 'yellow'],
  failed: ['✖', 'red'],
  cancelled: ['⊘', 'gray'],
  completed: ['✔', 'green'],
  queued: ['○', 'gray'],
  started: ['▶', 'cyan'],
  finished: ['✔', 'green'],
  delayed: ['◔', 'yellow'],
}

/** A status as shown in a table: symbol and colour on a TTY, the bare word when piped. */
export const statusCell = (style: Style, status: string): string => {
  const look = STATUS_LOOK[status]
  if (!style.tty || !look) return status
  return paint(style, look[1], `${look[0]} ${status}`)
}

/** ISO timestamps as `YYYY-MM-DD HH:MM:SS` (UTC); anything unparseable is shown as given. */
export const formatTime = (value: unknown): string => {
  if (value === null || value === undefined || value === '') return '-'
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value))
  if (Number.isNaN(date.getTime())) return String(value)
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

/** Any value as one table cell: null → "-", objects → compact JSON. */
export const cell = (value: unknown): string => {
  if (value === null || value === undefined || value === '') return '-'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
