/**
 * The environment an agent process gets: an allow-list of the parent's variables (never the
 * whole environment), plus the engine's own credentials, plus the variables we set. Orchestrator
 * secrets (API and webhook tokens, code-host tokens, database and Redis URLs) can never pass,
 * even when an allow-list names them.
 */

export type Env = Readonly<Record<string, string | undefined>>

const BASE_ALLOWED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TERM',
  'TMPDIR',
  'TZ',
  'COLORTERM',
  'NO_COLOR',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSH_AUTH_SOCK',
])
const ALLOWED_PREFIXES = ['LC_', 'XDG_', 'GIT_AUTHOR_', 'GIT_COMMITTER_']

/** Never handed to an agent, whatever an allow-list says. */
const SECRET_NAME =
  /^(TASKSGODZILLA_|GITHUB_TOKEN$|GH_TOKEN$|GH_ENTERPRISE_TOKEN$|GITHUB_PAT|GITLAB_TOKEN$|GL_TOKEN$|GLAB_TOKEN$|CI_JOB_TOKEN$|DATABASE_URL$|REDIS_URL$|PGPASSWORD$|PGUSER$|PGHOST$|PGDATABASE$|NPM_TOKEN$)|(_DB_URL|_REDIS_URL|_DATABASE_URL)$/

/** Our own contract variables for agents (`TASKSGODZILLA_AGENT_*`); not secrets by construction. */
export const AGENT_VAR_PREFIX = 'TASKSGODZILLA_AGENT_'

export const isSecretName = (name: string): boolean => SECRET_NAME.test(name)

/**
 * Builds a child environment from `parent`: the base allow-list, the names in `pass` (an engine's
 * credentials, e.g. OPENAI_API_KEY), then `set` (only `TASKSGODZILLA_AGENT_*` or non-secret names).
 */
export const buildChildEnv = (
  parent: Env,
  pass: readonly string[],
  set: Readonly<Record<string, string>> = {},
): Record<string, string> => {
  const env: Record<string, string> = {}
  const passed = new Set(pass)
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || isSecretName(name)) continue
    if (
      BASE_ALLOWED.has(name) ||
      passed.has(name) ||
      ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix))
    )
      env[name] = value
  }
  for (const [name, value] of Object.entries(set))
    if (name.startsWith(AGENT_VAR_PREFIX) || !isSecretName(name)) env[name] = value
  return env
}
