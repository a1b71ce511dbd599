import type { JsonObject } from './json.js'

export const CI_PROVIDERS = ['github', 'gitlab'] as const
export type CiProvider = (typeof CI_PROVIDERS)[number]

/** What a CI result means for a step. */
export type CiOutcome = 'success' | 'running' | 'failure' | 'none'

/** A provider's delivery reduced to what the orchestrator acts on. */
export interface CiNotice {
  readonly provider: CiProvider
  /** The event name (`workflow_run`, `pipeline`, …) used as the main event's type. */
  readonly event: string
  readonly action: string
  readonly branch: string | null
  readonly sha: string | null
  readonly conclusion: string | null
  readonly status: string | null
  readonly prNumber: number | null
  readonly checkName: string | null
  /** True for a merged PR/MR. */
  readonly merged: boolean
  /** URLs and names identifying the repository, to match a project's git URL. */
  readonly repositoryUrls: readonly string[]
  /** What failed, where to look and the log excerpt, kept for the step's next attempt. */
  readonly details: JsonObject
}

const GITHUB_OUTCOMES: Record<string, CiOutcome> = {
  success: 'success',
  neutral: 'success',
  passed: 'success',
  ok: 'success',
  in_progress: 'running',
  queued: 'running',
  requested: 'running',
  pending: 'running',
  failure: 'failure',
  timed_out: 'failure',
  cancelled: 'failure',
  canceled: 'failure',
  action_required: 'failure',
  error: 'failure',
}

const GITLAB_OUTCOMES: Record<string, CiOutcome> = {
  success: 'success',
  passed: 'success',
  merge: 'success',
  running: 'running',
  pending: 'running',
  failed: 'failure',
  canceled: 'failure',
  cancelled: 'failure',
}

/**
 * The outcome of a notice: GitHub looks at the conclusion, else the status; GitLab at the status.
 * A merge is not a CI result (the original counted GitHub's `merged` as a pass).
 */
export const outcomeOf = (notice: CiNotice): CiOutcome => {
  if (notice.merged) return 'none'
  const table = notice.provider === 'github' ? GITHUB_OUTCOMES : GITLAB_OUTCOMES
  const value = (notice.provider === 'github' ? (notice.conclusion ?? notice.status) : notice.status) ?? ''
  return table[value.toLowerCase()] ?? 'none'
}

/**
 * Branch names a ref may stand for: `refs/heads/` stripped; tags never name a run; the whole
 * remainder first, then its last segment (`feature/0001-demo` → `0001-demo`).
 */
export const branchCandidates = (ref: string | null): string[] => {
  if (ref === null || ref === '' || ref.startsWith('refs/tags/')) return []
  const branch = ref.replace(/^refs\/heads\//, '')
  const last = branch.split('/').pop() ?? branch
  return last === branch ? [branch] : [branch, last]
}

/**
 * A git URL reduced to `host/path` (lowercase host, no scheme, credentials, port or `.git`), so
 * `https://github.com/o/r.git`, `git@github.com:o/r` and `ssh://git@github.com/o/r` compare equal.
 */
export const repositoryKey = (url: string): string | null => {
  const trimmed = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(trimmed)
  if (scp) return `${scp[1]!.toLowerCase()}/${scp[2]}`
  const parsed = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?\/(.+)$/i.exec(trimmed)
  return parsed ? `${parsed[1]!.toLowerCase()}/${parsed[2]}` : null
}
