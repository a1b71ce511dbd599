import { isSecretName, LOCALE_AND_XDG_PREFIXES, NETWORK_AND_LOCALE, pickEnv, type Env } from '../child-env.js'

export type { Env }

/**
 * The environment an agent process gets: an allow-list of the parent's variables (never the
 * whole environment), plus the engine's own credentials, plus the variables we set. Orchestrator
 * secrets (API and webhook tokens, code-host tokens, database and Redis URLs) can never pass,
 * even when an allow-list names them.
 */

const BASE_ALLOWED = new Set<string>([
  ...NETWORK_AND_LOCALE,
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'NODE_EXTRA_CA_CERTS',
  'SSH_AUTH_SOCK',
])
const ALLOWED_PREFIXES = [...LOCALE_AND_XDG_PREFIXES, 'GIT_AUTHOR_', 'GIT_COMMITTER_']

/** Our own contract variables for agents (`TASKSGODZILLA_AGENT_*`); not secrets by construction. */
export const AGENT_VAR_PREFIX = 'TASKSGODZILLA_AGENT_'

/**
 * Builds a child environment from `parent`: the base allow-list, the names in `pass` (an engine's
 * credentials, e.g. OPENAI_API_KEY), then `set` (only `TASKSGODZILLA_AGENT_*` or non-secret names).
 */
export const buildChildEnv = (
  parent: Env,
  pass: readonly string[],
  set: Readonly<Record<string, string>> = {},
): Record<string, string> => {
  const env = pickEnv(parent, new Set([...BASE_ALLOWED, ...pass]), ALLOWED_PREFIXES)
  for (const [name, value] of Object.entries(set))
    if (name.startsWith(AGENT_VAR_PREFIX) || !isSecretName(name)) env[name] = value
  return env
}
