import { createHmac } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/**
 * The CI reporter contract shared with `scripts/ci/report.sh` (reference §3.6, workers §7.3): the
 * same variables, the same payloads byte for byte, built by JSON serialisation instead of string
 * interpolation, so a branch or log line can never break out of its field.
 */

export const CI_REPORT_PROVIDERS = ['github', 'gitlab'] as const
export type CiReportProvider = (typeof CI_REPORT_PROVIDERS)[number]

/** The reporter's log tail, as `tail -n 200` would give it. */
export const LOG_TAIL_LINES = 200

type Env = Readonly<Record<string, string | undefined>>

/** What one report says; every field is resolved (flags, then variables, then git). */
export interface CiReport {
  readonly provider: CiReportProvider
  readonly status: string
  readonly branch: string
  readonly sha: string
  readonly targetUrl: string
  readonly logExcerpt: string | null
  readonly protocolRunId: number | undefined
}

/** Flags that override the environment. */
export interface CiReportFlags {
  readonly provider?: string | undefined
  readonly branch?: string | undefined
  readonly sha?: string | undefined
  readonly targetUrl?: string | undefined
  readonly logFile?: string | undefined
  readonly run?: number | undefined
}

/** The request to send: path under the API base, headers and the exact body that was signed. */
export interface CiReportRequest {
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** Resolves a report from flags and the CI's environment, asking git only for what is missing. */
export const resolveCiReport = (status: string, flags: CiReportFlags, env: Env): CiReport => {
  const provider = (flags.provider ?? set(env.TASKSGODZILLA_CI_PROVIDER) ?? 'github').toLowerCase()
  if (!isProvider(provider)) {
    throw new RangeError(`unknown CI provider "${provider}": expected github or gitlab`)
  }
  const logFile = flags.logFile ?? set(env.TASKSGODZILLA_CI_LOG_FILE)
  return {
    provider,
    status,
    branch:
      flags.branch ?? branchFromEnv(env) ?? gitOutput(['rev-parse', '--abbrev-ref', 'HEAD']) ?? 'unknown',
    sha: flags.sha ?? shaFromEnv(env) ?? gitOutput(['rev-parse', 'HEAD']) ?? '',
    targetUrl: flags.targetUrl ?? targetUrlFromEnv(env) ?? '',
    logExcerpt: logFile === undefined ? null : logTail(logFile),
    protocolRunId: flags.run ?? runIdFromEnv(env),
  }
}

/** The webhook request for a report: GitHub's `status` event (HMAC-signed) or GitLab's pipeline hook. */
export const ciReportRequest = (report: CiReport, webhookToken: string | undefined): CiReportRequest => {
  const query = report.protocolRunId === undefined ? '' : `?protocol_run_id=${report.protocolRunId}`
  const path = `/webhooks/${report.provider}${query}`
  if (report.provider === 'gitlab') {
    const body = JSON.stringify({
      object_kind: 'pipeline',
      object_attributes: {
        status: report.status,
        ref: report.branch,
        sha: report.sha,
        url: report.targetUrl,
      },
      log_excerpt: report.logExcerpt,
    })
    const token: Record<string, string> = webhookToken ? { 'x-gitlab-token': webhookToken } : {}
    return { path, body, headers: { 'x-gitlab-event': 'Pipeline Hook', ...token } }
  }
  const body = JSON.stringify({
    state: report.status,
    branches: [{ name: report.branch }],
    target_url: report.targetUrl,
    ref: report.branch,
    sha: report.sha,
    log_excerpt: report.logExcerpt,
  })
  const signature: Record<string, string> = webhookToken
    ? { 'x-hub-signature-256': `sha256=${createHmac('sha256', webhookToken).update(body).digest('hex')}` }
    : {}
  return { path, body, headers: { 'x-github-event': 'status', ...signature } }
}

const set = (value: string | undefined): string | undefined => (value ? value : undefined)

const isProvider = (value: string): value is CiReportProvider =>
  (CI_REPORT_PROVIDERS as readonly string[]).includes(value)

const branchFromEnv = (env: Env): string | undefined =>
  set(env.TASKSGODZILLA_BRANCH) ??
  set(env.CI_COMMIT_REF_NAME) ??
  set(env.GITHUB_HEAD_REF) ??
  set(env.GITHUB_REF_NAME)

const shaFromEnv = (env: Env): string | undefined =>
  set(env.TASKSGODZILLA_COMMIT_SHA) ?? set(env.GITHUB_SHA) ?? set(env.CI_COMMIT_SHA)

/** GitLab's job page, else the GitHub Actions run page when the runner names it, else the server. */
const targetUrlFromEnv = (env: Env): string | undefined => {
  const githubRun =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined
  return set(env.TASKSGODZILLA_TARGET_URL) ?? set(env.CI_JOB_URL) ?? githubRun ?? set(env.GITHUB_SERVER_URL)
}

const runIdFromEnv = (env: Env): number | undefined => {
  const raw = set(env.TASKSGODZILLA_PROTOCOL_RUN_ID)
  if (raw === undefined) return undefined
  if (!/^\d{1,10}$/.test(raw)) {
    throw new RangeError(`TASKSGODZILLA_PROTOCOL_RUN_ID must be a run id, not "${raw}"`)
  }
  return Number(raw)
}

/** The last lines of a log, control characters other than tab and CR dropped (as the script does). */
export const logTail = (path: string): string | null => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return null // like the script: an unreadable log is left out, the report still goes
  }
  // eslint-disable-next-line no-control-regex -- the point is to remove control characters
  const lines = text.replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/g, '').split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.slice(-LOG_TAIL_LINES).join('\n')
}

const gitOutput = (args: string[]): string | undefined => {
  try {
    const out = execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return out === '' ? undefined : out
  } catch {
    return undefined
  }
}
