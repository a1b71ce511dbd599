/**
 * Typed readers for environment variables. Each one either returns a value or throws a
 * ConfigError whose message is a single line naming the variable and what it accepts.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

export type Env = Readonly<Record<string, string | undefined>>

const TRUE = ['1', 'true', 'yes', 'on']
const FALSE = ['0', 'false', 'no', 'off']

/** The variable's value with surrounding blanks removed; empty counts as unset. */
export const raw = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

export const fail = (name: string, value: string, accepted: string): never => {
  throw new ConfigError(`Invalid ${name}=${JSON.stringify(value)}: expected ${accepted}`)
}

export const readString = (env: Env, name: string): string | undefined => raw(env, name)

export const readBool = (env: Env, name: string, fallback: boolean): boolean => {
  const value = raw(env, name)
  if (value === undefined) return fallback
  const lower = value.toLowerCase()
  if (TRUE.includes(lower)) return true
  if (FALSE.includes(lower)) return false
  return fail(name, value, `one of ${[...TRUE, ...FALSE].join(', ')}`)
}

export function readInt(
  env: Env,
  name: string,
  bounds: { min: number; max?: number },
  fallback: number,
): number
export function readInt(env: Env, name: string, bounds: { min: number; max?: number }): number | undefined
export function readInt(
  env: Env,
  name: string,
  bounds: { min: number; max?: number },
  fallback?: number,
): number | undefined {
  const value = raw(env, name)
  if (value === undefined) return fallback
  const parsed = /^-?\d+$/.test(value) ? Number(value) : NaN
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(parsed) || parsed < bounds.min || parsed > max) {
    const range = bounds.max === undefined ? `≥ ${bounds.min}` : `from ${bounds.min} to ${bounds.max}`
    return fail(name, value, `an integer ${range}`)
  }
  return parsed
}

export const readChoice = <T extends string>(
  env: Env,
  name: string,
  choices: readonly T[],
  fallback: T,
): T => {
  const value = raw(env, name)
  if (value === undefined) return fallback
  const match = choices.find((choice) => choice === value.toLowerCase())
  return match ?? fail(name, value, `one of ${choices.join(', ')}`)
}

export const readList = (env: Env, name: string): string[] =>
  (raw(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
