import type { CiNotice } from './ci-notice.js'
import type { JsonObject } from './json.js'
import { compact, numberAt, objectAt, textAt } from './json-path.js'

const LOG_EXCERPT_CHARS = 8_000

/** Reduces a GitLab delivery (or a reporter pipeline payload) to a CI notice. */
export const gitlabNotice = (headerEvent: string, payload: JsonObject): CiNotice => {
  const kind = textAt(payload, 'object_kind') ?? headerEvent
  const attrs = objectAt(payload, 'object_attributes') ?? {}
  const status = textAt(attrs, 'status') ?? textAt(attrs, 'state') ?? textAt(payload, 'build_status')
  const ref = textAt(attrs, 'ref') ?? textAt(payload, 'ref')
  const isMergeRequest = kind === 'merge_request'
  const merged = isMergeRequest && textAt(attrs, 'state') === 'merged'
  return {
    provider: 'gitlab',
    event: kind,
    action: textAt(attrs, 'action') ?? '',
    branch: textAt(attrs, 'source_branch') ?? ref,
    sha:
      textAt(attrs, 'sha') ??
      textAt(attrs, 'last_commit', 'id') ??
      textAt(payload, 'checkout_sha') ??
      textAt(payload, 'sha') ??
      textAt(payload, 'after'),
    conclusion: status,
    status,
    prNumber: isMergeRequest ? numberAt(attrs, 'iid') : null,
    checkName: textAt(payload, 'build_name'),
    merged,
    repositoryUrls: repositoryUrls(payload),
    details: compact({
      pipeline_id: numberAt(attrs, 'id'),
      url: textAt(attrs, 'url'),
      job: textAt(payload, 'build_name'),
      stage: textAt(payload, 'build_stage'),
      failure_reason: textAt(payload, 'build_failure_reason'),
      status,
      log_excerpt: textAt(payload, 'log_excerpt')?.slice(-LOG_EXCERPT_CHARS),
    }),
  }
}

const repositoryUrls = (payload: JsonObject): string[] =>
  [
    textAt(payload, 'project', 'git_http_url'),
    textAt(payload, 'project', 'git_ssh_url'),
    textAt(payload, 'project', 'web_url'),
    textAt(payload, 'repository', 'git_http_url'),
    textAt(payload, 'repository', 'git_ssh_url'),
    textAt(payload, 'repository', 'homepage'),
  ].filter((url): url is string => url !== null)
