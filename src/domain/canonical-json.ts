/**
 * Canonical JSON text compatible with Python's
 * `json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=True)`, so that hashes
 * computed here match hashes the original stored.
 *
 * JavaScript numbers cannot tell `1.0` from `1`; a value parsed losslessly keeps its source text
 * in a {@link LosslessNumberLike} (the shape of `lossless-json`'s LosslessNumber), and that text
 * decides int versus float exactly as Python's parser would.
 */

/** A number kept as its JSON source text. Structural, so the domain imports no library. */
export interface LosslessNumberLike {
  readonly isLosslessNumber: true
  readonly value: string
}

export const isLosslessNumber = (value: unknown): value is LosslessNumberLike =>
  typeof value === 'object' &&
  value !== null &&
  (value as { isLosslessNumber?: unknown }).isLosslessNumber === true &&
  typeof (value as { value?: unknown }).value === 'string'

/** Canonical text of `value`. Throws a TypeError on values JSON cannot carry (functions, cycles). */
export const canonicalJson = (value: unknown): string => write(value, new Set())

const write = (value: unknown, seen: Set<object>): string => {
  if (value === null || value === undefined) return 'null'
  if (value === true) return 'true'
  if (value === false) return 'false'
  if (typeof value === 'string') return pythonString(value)
  if (typeof value === 'number') return jsNumber(value)
  if (typeof value === 'bigint') return value.toString()
  if (isLosslessNumber(value)) return losslessNumber(value.value)
  if (typeof value !== 'object') throw new TypeError(`Cannot encode a ${typeof value} as JSON`)
  if (seen.has(value)) throw new TypeError('Cannot encode a cyclic structure as JSON')
  seen.add(value)
  try {
    return Array.isArray(value) ? writeArray(value, seen) : writeObject(value as object, seen)
  } finally {
    seen.delete(value)
  }
}

const writeArray = (items: readonly unknown[], seen: Set<object>): string =>
  `[${items.map((item) => write(item, seen)).join(',')}]`

const writeObject = (object: object, seen: Set<object>): string => {
  const entries = Object.entries(object).filter(([, v]) => v !== undefined && typeof v !== 'function')
  entries.sort(([a], [b]) => compareCodePoints(a, b))
  return `{${entries.map(([k, v]) => `${pythonString(k)}:${write(v, seen)}`).join(',')}}`
}

/** Python sorts str keys by code point; JS's default sort compares UTF-16 units. */
export const compareCodePoints = (a: string, b: string): number => {
  const left = Array.from(a)
  const right = Array.from(b)
  const length = Math.min(left.length, right.length)
  for (let i = 0; i < length; i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0)
    if (diff !== 0) return diff
  }
  return left.length - right.length
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
}

/** ensure_ascii: everything outside printable ASCII becomes `\uXXXX` (UTF-16 units, lowercase). */
const pythonString = (text: string): string => {
  let out = '"'
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i)
    const code = text.charCodeAt(i)
    const short = SHORT_ESCAPES[char]
    if (short !== undefined) out += short
    else if (code >= 0x20 && code <= 0x7e) out += char
    else out += `\\u${code.toString(16).padStart(4, '0')}`
  }
  return `${out}"`
}

/** A plain JS number: integral values are ints (the `1.0` vs `1` break), others Python floats. */
const jsNumber = (value: number): string => {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return BigInt(value).toString()
  return pythonFloat(value)
}

const INT_TEXT = /^-?\d+$/

/** Python's parser makes an int of digits alone and a float of anything with `.`, `e` or `E`. */
const losslessNumber = (text: string): string => {
  if (INT_TEXT.test(text)) return BigInt(text).toString()
  return pythonFloat(Number(text))
}

/** Python's `float.__repr__`: shortest round-trip digits, exponent when < 1e-4 or ≥ 1e16. */
export const pythonFloat = (value: number): string => {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return 'Infinity'
  if (value === -Infinity) return '-Infinity'
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0'
  const sign = value < 0 ? '-' : ''
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const exponent = Number(exponentText)
  const decimalPoint = exponent + 1
  if (decimalPoint > 16 || decimalPoint <= -4) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : ''
    const expSign = exponent < 0 ? '-' : '+'
    return `${sign}${digits[0]}${fraction}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  if (decimalPoint <= 0) return `${sign}0.${'0'.repeat(-decimalPoint)}${digits}`
  if (decimalPoint >= digits.length) return `${sign}${digits}${'0'.repeat(decimalPoint - digits.length)}.0`
  return `${sign}${digits.slice(0, decimalPoint)}.${digits.slice(decimalPoint)}`
}
