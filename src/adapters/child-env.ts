/**
 * What any child process we start (agents, `gh`/`glab`) may inherit: never the whole environment,
 * only named variables and prefixes, and never an orchestrator secret (API and webhook tokens,
 * code-host tokens, database and Redis URLs) unless the caller adds one on purpose afterwards.
 */

export type Env = Readonly<Record<string, string | undefined>>

/** Proxies, certificates and locale: what a networked CLI needs to behave as on the host. */
export const NETWORK_AND_LOCALE = [
  'PATH',
  'HOME',
  'TMPDIR',
  'TZ',
  'LANG',
  'LANGUAGE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
] as const

/** Prefixes of locale and XDG folder variables. */
export const LOCALE_AND_XDG_PREFIXES = ['LC_', 'XDG_'] as const

const SECRET_NAME =
  /^(TASKSGODZILLA_|GITHUB_TOKEN$|GH_TOKEN$|GH_ENTERPRISE_TOKEN$|GITHUB_ENTERPRISE_TOKEN$|GITHUB_PAT|GITLAB_TOKEN$|GITLAB_ACCESS_TOKEN$|GL_TOKEN$|GLAB_TOKEN$|CI_JOB_TOKEN$|DATABASE_URL$|REDIS_URL$|PGPASSWORD$|PGUSER$|PGHOST$|PGDATABASE$|NPM_TOKEN$)|(_DB_URL|_REDIS_URL|_DATABASE_URL)$/

/** True for a variable that may never be inherited by name or prefix. */
export const isSecretName = (name: string): boolean => SECRET_NAME.test(name)

/** The variables of `parent` named in `names` or starting with one of `prefixes`, secrets excluded. */
export const pickEnv = (
  parent: Env,
  names: ReadonlySet<string>,
  prefixes: readonly string[],
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || isSecretName(name)) continue
    if (names.has(name) || prefixes.some((prefix) => name.startsWith(prefix))) env[name] = value
  }
  return env
}
