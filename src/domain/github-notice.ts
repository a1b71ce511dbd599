import type { CiNotice } from './ci-notice.js'
import type { JsonObject } from './json.js'
import { compact, numberAt, objectAt, textAt } from './json-path.js'

const LOG_EXCERPT_CHARS = 8_000

/** Reduces a GitHub delivery (or a reporter `status` payload) to a CI notice. */
export const githubNotice = (event: string, payload: JsonObject): CiNotice => {
  const base = {
    provider: 'github' as const,
    event,
    action: textAt(payload, 'action') ?? '',
    branch: textAt(payload, 'ref') ?? textAt(payload, 'branch'),
    sha: textAt(payload, 'after') ?? textAt(payload, 'sha'),
    conclusion: null as string | null,
    status: null as string | null,
    prNumber: null as number | null,
    checkName: null as string | null,
    merged: false,
    repositoryUrls: repositoryUrls(payload),
  }
  const logExcerpt = textAt(payload, 'log_excerpt')?.slice(-LOG_EXCERPT_CHARS) ?? null
  switch (event) {
    case 'workflow_run': {
      const run = objectAt(payload, 'workflow_run') ?? {}
      return {
        ...base,
        conclusion: textAt(run, 'conclusion') ?? textAt(run, 'status'),
        status: textAt(run, 'status'),
        branch: textAt(run, 'head_branch') ?? base.branch,
        sha: textAt(run, 'head_sha') ?? base.sha,
        prNumber: numberAt(run, 'pull_requests', 0, 'number'),
        details: compact({
          workflow: textAt(run, 'name'),
          url: textAt(run, 'html_url'),
          conclusion: textAt(run, 'conclusion'),
          log_excerpt: logExcerpt,
        }),
      }
    }
    case 'check_suite':
    case 'check_run': {
      const check = objectAt(payload, event) ?? {}
      return {
        ...base,
        conclusion: textAt(check, 'conclusion'),
        status: textAt(check, 'status'),
        branch: textAt(check, 'head_branch') ?? textAt(check, 'check_suite', 'head_branch') ?? base.branch,
        sha: textAt(check, 'head_sha') ?? base.sha,
        prNumber: numberAt(check, 'pull_requests', 0, 'number'),
        checkName: textAt(check, 'name'),
        details: compact({
          check: textAt(check, 'name'),
          url: textAt(check, 'html_url') ?? textAt(check, 'details_url'),
          conclusion: textAt(check, 'conclusion'),
          log_excerpt: (
            textAt(check, 'output', 'text') ??
            textAt(check, 'output', 'summary') ??
            logExcerpt
          )?.slice(-LOG_EXCERPT_CHARS),
        }),
      }
    }
    case 'pull_request': {
      const pr = objectAt(payload, 'pull_request') ?? {}
      const merged = pr.merged === true
      return {
        ...base,
        conclusion: merged ? 'merged' : textAt(pr, 'state'),
        status: textAt(pr, 'state'),
        branch: textAt(pr, 'head', 'ref') ?? base.branch,
        sha: textAt(pr, 'head', 'sha') ?? base.sha,
        prNumber: numberAt(pr, 'number'),
        merged,
        details: compact({ url: textAt(pr, 'html_url') }),
      }
    }
    case 'status':
      return {
        ...base,
        conclusion: textAt(payload, 'state'),
        status: textAt(payload, 'state'),
        branch: textAt(payload, 'branches', 0, 'name') ?? base.branch,
        details: compact({
          context: textAt(payload, 'context'),
          url: textAt(payload, 'target_url'),
          description: textAt(payload, 'description'),
          conclusion: textAt(payload, 'state'),
          log_excerpt: logExcerpt,
        }),
      }
    default:
      return { ...base, details: {} }
  }
}

const repositoryUrls = (payload: JsonObject): string[] =>
  ['clone_url', 'ssh_url', 'html_url', 'git_url']
    .map((key) => textAt(payload, 'repository', key))
    .filter((url): url is string => url !== null)
