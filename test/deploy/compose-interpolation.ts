/**
 * The part of Compose's variable interpolation the deploy files use: `${VAR}`, `${VAR:-default}`,
 * `${VAR:?message}` (refuses an unset or empty VAR with the message) and `$$` for a literal `$`.
 */
export const interpolate = (text: string, env: Readonly<Record<string, string | undefined>>): string =>
  text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (match, name, op, arg) => {
    if (match === '$$') return '$'
    const value = env[name as string]
    if (value !== undefined && value !== '') return value
    if (op === ':?') throw new Error(`required variable ${name} is missing a value: ${arg}`)
    return op === ':-' ? (arg as string) : ''
  })

/** Reads a dotenv file of KEY=value lines (comments and blank lines skipped). */
export const parseDotenv = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )
