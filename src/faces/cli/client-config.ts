/**
 * The CLI client's configuration, read from the environment in this one place. Client commands
 * run where the server's configuration does not (a developer's shell, a CI runner), so they do not
 * go through `src/config.ts`: its schema validates server variables (database, queue, engines) that
 * a CI runner has no reason to set correctly, and a client command must not fail on them. `serve`,
 * `worker`, `migrate` and `demo` read the server configuration through `loadConfig` (process.ts).
 */
export interface ClientConfig {
  readonly apiBase: string | undefined
  readonly token: string | undefined
  readonly projectToken: string | undefined
  /** Signs `ci report` requests (the server's TASKSGODZILLA_WEBHOOK_TOKEN). */
  readonly webhookToken: string | undefined
  /** The CI provider's variables (GITHUB_*, CI_*, TASKSGODZILLA_CI_*) `ci report` fills its report from. */
  readonly ciEnvironment: Readonly<Record<string, string | undefined>>
  /** NO_COLOR and TERM, for the human output's colours. */
  readonly terminal: { readonly NO_COLOR?: string; readonly TERM?: string }
}

export const readClientConfig = (env: NodeJS.ProcessEnv = process.env): ClientConfig => ({
  apiBase: nonEmpty(env.TASKSGODZILLA_API_BASE),
  token: nonEmpty(env.TASKSGODZILLA_API_TOKEN),
  projectToken: nonEmpty(env.TASKSGODZILLA_PROJECT_TOKEN),
  webhookToken: nonEmpty(env.TASKSGODZILLA_WEBHOOK_TOKEN),
  ciEnvironment: env,
  terminal: { NO_COLOR: env.NO_COLOR, TERM: env.TERM },
})

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value
