import { fail, raw, type Env } from './config-readers.js'

/** An extra command engine: its id and the argv it runs (executable first). */
export interface CommandEngineSetting {
  readonly id: string
  readonly command: string
  readonly args: readonly string[]
}

const ENGINE_ID = /^[a-z][a-z0-9_-]{0,39}$/
const TAKEN_IDS = ['codex', 'claude', 'opencode', 'command']
const ACCEPTED =
  'a JSON object from engine id (lower-case, not codex/claude/opencode/command) to a non-empty argv array, e.g. {"backup":["/opt/agent","--fast"]}'

/**
 * `TASKSGODZILLA_COMMAND_ENGINES`: more command engines, each under its own id, so that an install
 * driving its own agents can name a fallback chain of them (`engines: [{engine: "backup"}]`).
 */
export const readCommandEngines = (env: Env): CommandEngineSetting[] => {
  const name = 'TASKSGODZILLA_COMMAND_ENGINES'
  const value = raw(env, name)
  if (value === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return fail(name, value, ACCEPTED)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return fail(name, value, ACCEPTED)
  return Object.entries(parsed).map(([id, argv]) => {
    const usable =
      ENGINE_ID.test(id) &&
      !TAKEN_IDS.includes(id) &&
      Array.isArray(argv) &&
      argv.length > 0 &&
      argv.every((arg) => typeof arg === 'string' && arg !== '')
    if (!usable) return fail(name, value, ACCEPTED)
    const [command, ...args] = argv as string[]
    return { id, command: command!, args }
  })
}
